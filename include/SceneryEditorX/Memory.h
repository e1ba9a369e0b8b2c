#pragma once
/// @file Memory.h
/// Umbrella header of the Scenery Editor X memory system: the user API. The fault-injection test hook
/// (Vulkan/FaultInjection.h) is not part of it; tests and fuzzers include that header themselves.

#include <SceneryEditorX/Core/Assert.h>
#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/Core/Module.h>
#include <SceneryEditorX/Core/Profile.h>
#include <SceneryEditorX/Core/Ref.h>
#include <SceneryEditorX/Memory/DefragmentationManager.h>
#include <SceneryEditorX/Memory/GpuResource.h>
#include <SceneryEditorX/Memory/MemoryAllocator.h>
#include <SceneryEditorX/Memory/MemoryTypes.h>
#include <SceneryEditorX/Vulkan/VulkanDevice.h>
