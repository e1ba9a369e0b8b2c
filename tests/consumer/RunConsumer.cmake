# Builds and runs the consumer project (tests/consumer). Called by CTest:
#   cmake -DMODE=install|subdirectory -DWORK_DIR=... -DSOURCE_DIR=... -DMAIN_BINARY_DIR=...
#         -DCONSUMER_SOURCE_DIR=... -DGENERATOR=... -DCXX_COMPILER=... -DBUILD_TYPE=... -DSANITIZER=...
#         -P RunConsumer.cmake
# install:      `cmake --install MAIN_BINARY_DIR` into WORK_DIR/prefix, then configure the consumer with
#               CMAKE_PREFIX_PATH=WORK_DIR/prefix alone (no VMA prefix: the package must carry VMA's header).
# subdirectory: configure the consumer with SEDX_SOURCE_DIR=SOURCE_DIR (add_subdirectory).
# OWN_VMA (install mode): 'package-header' or 'own-copy' (tests/consumer/CMakeLists.txt) adds the
#               application's own VMA_IMPLEMENTATION unit.
# APP_VMA:      'unit' or 'no-unit' links SceneryEditorX::MemoryAppVma with or without the application's
#               VMA unit, 'unit-on-memory' links that unit with SceneryEditorX::Memory (tests/consumer/
#               CMakeLists.txt); 'other-header' (install mode) is 'unit' with the installed guard's VMA
#               unit name changed to another header's hash, as a package of another VMA header would have it.
# EXPECT_BUILD_ERROR: the build must FAIL and its output match this regex, and nothing runs.
# The consumer builds with -j <logical cores>, or CMAKE_BUILD_PARALLEL_LEVEL from the environment.
cmake_minimum_required(VERSION 3.25)

foreach(var MODE WORK_DIR SOURCE_DIR MAIN_BINARY_DIR CONSUMER_SOURCE_DIR GENERATOR)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "RunConsumer.cmake: ${var} is not set")
    endif()
endforeach()

cmake_host_system_information(RESULT jobs QUERY NUMBER_OF_LOGICAL_CORES)
if(DEFINED ENV{CMAKE_BUILD_PARALLEL_LEVEL} AND "$ENV{CMAKE_BUILD_PARALLEL_LEVEL}" MATCHES "^[1-9][0-9]*$")
    set(jobs $ENV{CMAKE_BUILD_PARALLEL_LEVEL})
endif()

function(run step)
    message(STATUS "[consumer ${MODE}] ${step}: ${ARGN}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "[consumer ${MODE}] ${step} failed (${result})")
    endif()
endfunction()

set(build_dir "${WORK_DIR}/build")
set(APP_VMA_CONFIGURE "${APP_VMA}")
set(configure_args -G "${GENERATOR}" -S "${CONSUMER_SOURCE_DIR}" -B "${build_dir}"
                   -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(CXX_COMPILER)
    list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(BUILD_TYPE)
    list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
endif()
# A sanitizer build of the library needs the consumer compiled and linked the same way.
if(SANITIZER STREQUAL "address")
    set(flags "-fsanitize=address,undefined -fno-omit-frame-pointer")
elseif(SANITIZER STREQUAL "thread")
    set(flags "-fsanitize=thread -fno-omit-frame-pointer")
endif()
if(flags)
    list(APPEND configure_args "-DCMAKE_CXX_FLAGS=${flags}" "-DCMAKE_EXE_LINKER_FLAGS=${flags}")
endif()

if(MODE STREQUAL "subdirectory" AND APP_VMA STREQUAL "other-header")
    message(FATAL_ERROR "RunConsumer.cmake: APP_VMA 'other-header' needs MODE install")
endif()
if(MODE STREQUAL "install")
    set(prefix "${WORK_DIR}/prefix")
    file(REMOVE_RECURSE "${prefix}" "${build_dir}")
    run("install" "${CMAKE_COMMAND}" --install "${MAIN_BINARY_DIR}" --prefix "${prefix}")
    file(GLOB_RECURSE vma_header "${prefix}/*/vk_mem_alloc.h")
    if(NOT vma_header)
        message(FATAL_ERROR "[consumer install] the installed package does not carry vk_mem_alloc.h")
    endif()
    if(OWN_VMA)
        set(upstream_header "${prefix}/include/SceneryEditorX/vma/upstream/vk_mem_alloc.h")
        if(NOT EXISTS "${upstream_header}")
            message(FATAL_ERROR "[consumer install] the package has no ${upstream_header}")
        endif()
        list(APPEND configure_args "-DSEDX_CONSUMER_OWN_VMA=${OWN_VMA}"
                                   "-DSEDX_CONSUMER_OWN_VMA_HEADER=${upstream_header}")
    endif()
    if(APP_VMA STREQUAL "other-header")
        set(guard "${prefix}/include/SceneryEditorX/vma/vk_mem_alloc.h")
        file(READ "${guard}" text)
        string(REGEX REPLACE "(#define SEDX_VMA_UNIT_ENTRY [a-z_0-9]+_sha256_)[0-9a-f]+" "\\1000000000000"
               changed "${text}")
        if(changed STREQUAL text)
            message(FATAL_ERROR "[consumer install] no SEDX_VMA_UNIT_ENTRY with a hash in ${guard}")
        endif()
        file(WRITE "${guard}" "${changed}")
        set(APP_VMA_CONFIGURE unit)
    endif()
    run("configure" "${CMAKE_COMMAND}" ${configure_args} "-DSEDX_CONSUMER_APP_VMA=${APP_VMA_CONFIGURE}"
        "-DCMAKE_PREFIX_PATH=${prefix}")
    load_cache("${build_dir}" READ_WITH_PREFIX cache_ SceneryEditorXMemory_DIR)
    string(FIND "${cache_SceneryEditorXMemory_DIR}" "${prefix}/" at)
    if(NOT at EQUAL 0)
        message(FATAL_ERROR "[consumer install] found the package at '${cache_SceneryEditorXMemory_DIR}', "
                            "not in the fresh install prefix ${prefix}")
    endif()
elseif(MODE STREQUAL "subdirectory")
    run("configure" "${CMAKE_COMMAND}" ${configure_args} "-DSEDX_CONSUMER_APP_VMA=${APP_VMA_CONFIGURE}"
        "-DSEDX_SOURCE_DIR=${SOURCE_DIR}")
else()
    message(FATAL_ERROR "RunConsumer.cmake: MODE must be 'install' or 'subdirectory', not '${MODE}'")
endif()

if(EXPECT_BUILD_ERROR)
    message(STATUS "[consumer ${MODE}] build, expected to fail: ${EXPECT_BUILD_ERROR}")
    execute_process(COMMAND "${CMAKE_COMMAND}" --build "${build_dir}" -j ${jobs} RESULT_VARIABLE result
                    OUTPUT_VARIABLE output ERROR_VARIABLE output)
    message("${output}")
    if(result EQUAL 0)
        message(FATAL_ERROR "[consumer ${MODE}] the build (OWN_VMA '${OWN_VMA}', APP_VMA '${APP_VMA}') "
                            "succeeded: two VMA builds, or none, or another VMA header's, would be linked")
    endif()
    if(NOT output MATCHES "${EXPECT_BUILD_ERROR}")
        message(FATAL_ERROR "[consumer ${MODE}] the build failed, but its output does not match "
                            "'${EXPECT_BUILD_ERROR}'")
    endif()
    message(STATUS "[consumer ${MODE}] the build failed as expected (OWN_VMA '${OWN_VMA}', APP_VMA '${APP_VMA}')")
    return()
endif()
run("build" "${CMAKE_COMMAND}" --build "${build_dir}" -j ${jobs})
run("run" "${build_dir}/sedx_consumer")
