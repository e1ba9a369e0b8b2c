#pragma once
/// @file Memory.h
/// Umbrella header of the Scenery Editor X memory system.

#include <SceneryEditorX/Core/Assert.h>
#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/Core/Module.h>
#include <SceneryEditorX/Core/Profile.h>
#include <SceneryEditorX/Core/Ref.h>
#include <SceneryEditorX/Memory/DefragmentationManager.h>
#include <SceneryEditorX/Memory/GpuResource.h>
#include <SceneryEditorX/Memory/MemoryAllocator.h>
#include <SceneryEditorX/Memory/MemoryTypes.h>
#include <SceneryEditorX/Vulkan/FaultInjection.h>
#include <SceneryEditorX/Vulkan/VulkanDevice.h>
