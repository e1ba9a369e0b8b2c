# cmake -DPROGRAM=<exe> -DEXPECT_OUTPUT=<regex>[|<regex>...] -P ExpectOutput.cmake
# Passes when PROGRAM exits with 0 (not with a signal) and its output (stdout and stderr together)
# matches every regex. The counterpart of ExpectFailure.cmake.
include(${CMAKE_CURRENT_LIST_DIR}/ExpectMatches.cmake)
if(NOT PROGRAM)
    message(FATAL_ERROR "ExpectOutput.cmake: PROGRAM is not set")
endif()
execute_process(COMMAND "${PROGRAM}" RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
message("${output}")
if(NOT result EQUAL 0)
    message(FATAL_ERROR "expected ${PROGRAM} to exit with 0, but: ${result}")
endif()
sedx_expect_matches("${output}" "${EXPECT_OUTPUT}" "the output of ${PROGRAM}")
message(STATUS "${PROGRAM} exited with 0 and wrote what was expected")
