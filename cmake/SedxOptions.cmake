# Warning and sanitizer settings shared by every target of ours (not by VMA's translation unit).
add_library(sedx_warnings INTERFACE)
target_compile_options(sedx_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                               -Wold-style-cast -Wcast-align -Woverloaded-virtual
                                               # `VkFooInfo info{VK_STRUCTURE_TYPE_FOO}` is idiomatic Vulkan: the rest is zeroed.
                                               -Wno-missing-field-initializers)
if(SEDX_WARNINGS_AS_ERRORS)
    target_compile_options(sedx_warnings INTERFACE -Werror)
endif()

if(SEDX_SANITIZER STREQUAL "address")
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
elseif(SEDX_SANITIZER STREQUAL "thread")
    add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
    add_link_options(-fsanitize=thread)
elseif(NOT SEDX_SANITIZER STREQUAL "")
    message(FATAL_ERROR "SEDX_SANITIZER must be '', 'address' or 'thread'")
endif()
