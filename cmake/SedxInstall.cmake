# `cmake --install`: the library (both variants, src/CMakeLists.txt), its headers, VMA's header (our
# public API exposes VMA types, and Debian 12 has no VMA package) and the CMake package
# SceneryEditorXMemory.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS SceneryEditorXMemory SceneryEditorXMemoryAppVma EXPORT SceneryEditorXMemoryTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} ${CMAKE_INSTALL_INCLUDEDIR}/SceneryEditorX/vma)
# The static libraries link the dump model (libs/VmaDump) privately: users link its archive too.
install(TARGETS SceneryEditorXVmaDump EXPORT SceneryEditorXMemoryTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/SceneryEditorX DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The guarded vk_mem_alloc.h, VMA's own header under upstream/ and the VMA unit VmaImplementation.inl
# (src/CMakeLists.txt).
install(DIRECTORY ${SEDX_VMA_HEADER_DIR}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/SceneryEditorX/vma)

install(EXPORT SceneryEditorXMemoryTargets NAMESPACE SceneryEditorX::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/SceneryEditorXMemory)
configure_package_config_file(cmake/SceneryEditorXMemoryConfig.cmake.in
        "${CMAKE_CURRENT_BINARY_DIR}/SceneryEditorXMemoryConfig.cmake"
        INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/SceneryEditorXMemory)
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/SceneryEditorXMemoryConfigVersion.cmake"
        COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/SceneryEditorXMemoryConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/SceneryEditorXMemoryConfigVersion.cmake"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/SceneryEditorXMemory)
