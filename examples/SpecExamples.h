#pragma once
/// @file SpecExamples.h
/// The code examples of the memory allocator spec (memory-allocator-system.md), compiled
/// and run. One function per example, named after its spec section, in the spec's order.
///
/// Each function returns true when the example did what the spec says it does, checked with real
/// values (bytes read back, counters that go up and come back down), and false otherwise (the
/// reason is logged). None of them throws.
///
/// The global allocator: the examples whose spec text initializes it themselves (Basic Buffer
/// Allocation, Initialization and Shutdown) and Error Recovery, which needs a heap size limit,
/// call `MemoryAllocator::Init` and `Shutdown` themselves (`kExamples[i].initializesAllocator`).
/// For every other example the caller must call `MemoryAllocator::Init(vulkanDevice,
/// VK_API_VERSION_1_3)` before and `MemoryAllocator::Shutdown()` after.
///
/// Thread safety: run the examples one at a time (they share the global allocator).

#include <SceneryEditorX/Memory.h>

#include <array>

namespace SceneryEditorX::Examples
{

// Usage Examples
bool Example_BasicBufferAllocation(const Ref<VulkanDevice>& vulkanDevice);
bool Example_ImageAllocation(const Ref<VulkanDevice>& vulkanDevice);
bool Example_BatchBufferAllocation(const Ref<VulkanDevice>& vulkanDevice);
bool Example_MemoryMapping(const Ref<VulkanDevice>& vulkanDevice);
bool Example_AdvancedConfiguration(const Ref<VulkanDevice>& vulkanDevice);

// Memory Statistics and Monitoring
bool Example_AllocationStatistics(const Ref<VulkanDevice>& vulkanDevice);
bool Example_DetailedStatisticsReporting(const Ref<VulkanDevice>& vulkanDevice);
bool Example_MemoryBudgetMonitoring(const Ref<VulkanDevice>& vulkanDevice);

// Integration with Scenery Editor X Framework
bool Example_ModuleIntegration(const Ref<VulkanDevice>& vulkanDevice);
bool Example_SmartPointerIntegration(const Ref<VulkanDevice>& vulkanDevice);

// Error Handling and Debugging
bool Example_AssertionAndValidation(const Ref<VulkanDevice>& vulkanDevice);
bool Example_TaggedLogging(const Ref<VulkanDevice>& vulkanDevice);
bool Example_DebugInformation(const Ref<VulkanDevice>& vulkanDevice);

// Performance Optimization
bool Example_MemoryPoolOptimization(const Ref<VulkanDevice>& vulkanDevice);

// Best Practices
bool Example_InitializationAndShutdown(const Ref<VulkanDevice>& vulkanDevice);
bool Example_ResourceLifecycleManagement(const Ref<VulkanDevice>& vulkanDevice);
bool Example_ErrorRecovery(const Ref<VulkanDevice>& vulkanDevice);

// Thread Safety
bool Example_ThreadSafety(const Ref<VulkanDevice>& vulkanDevice);

/// One example of the spec.
struct SpecExample
{
    const char* name; ///< the spec section's title
    bool (*run)(const Ref<VulkanDevice>& vulkanDevice);
    /// True when the example calls MemoryAllocator::Init and Shutdown itself.
    bool initializesAllocator;
};

/// Every non-defragmentation example, in the spec's order.
inline constexpr std::array<SpecExample, 18> kExamples{{
    {"Basic Buffer Allocation", &Example_BasicBufferAllocation, true},
    {"Image Allocation", &Example_ImageAllocation, false},
    {"Batch Buffer Allocation", &Example_BatchBufferAllocation, false},
    {"Memory Mapping for CPU Access", &Example_MemoryMapping, false},
    {"Advanced Configuration", &Example_AdvancedConfiguration, false},
    {"Getting Allocation Statistics", &Example_AllocationStatistics, false},
    {"Detailed Statistics Reporting", &Example_DetailedStatisticsReporting, false},
    {"Memory Budget Monitoring", &Example_MemoryBudgetMonitoring, false},
    {"Module Integration", &Example_ModuleIntegration, false},
    {"Smart Pointer Integration", &Example_SmartPointerIntegration, false},
    {"Assertion and Validation", &Example_AssertionAndValidation, false},
    {"Tagged Logging", &Example_TaggedLogging, false},
    {"Debug Information", &Example_DebugInformation, false},
    {"Memory Pool Optimization", &Example_MemoryPoolOptimization, false},
    {"Initialization and Shutdown", &Example_InitializationAndShutdown, true},
    {"Resource Lifecycle Management", &Example_ResourceLifecycleManagement, false},
    {"Error Recovery", &Example_ErrorRecovery, true},
    {"Thread Safety", &Example_ThreadSafety, false},
}};

} // namespace SceneryEditorX::Examples
