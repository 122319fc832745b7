# Run EXE with ARGS; pass when the exit code is EXPECT_RC and stderr contains EXPECT_ERR on
# a single `error:` line.
execute_process(COMMAND ${EXE} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "exit ${rc}, expected ${EXPECT_RC}; stderr: ${err}")
endif()
string(FIND "${err}" "${EXPECT_ERR}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "stderr lacks '${EXPECT_ERR}': ${err}")
endif()
if(NOT err MATCHES "^error: [^\n]*\n$")
  message(FATAL_ERROR "stderr is not one 'error:' line: ${err}")
endif()
