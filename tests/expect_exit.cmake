# Run EXE with ARGS; pass when the exit code is EXPECT_RC and stderr is a single `error:` line
# that contains EXPECT_ERR (a literal) and matches EXPECT_ERR_RE (a regular expression), each
# when given.
execute_process(COMMAND ${EXE} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "exit ${rc}, expected ${EXPECT_RC}; stderr: ${err}")
endif()
if(DEFINED EXPECT_ERR)
  string(FIND "${err}" "${EXPECT_ERR}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "stderr lacks '${EXPECT_ERR}': ${err}")
  endif()
endif()
if(DEFINED EXPECT_ERR_RE AND NOT err MATCHES "${EXPECT_ERR_RE}")
  message(FATAL_ERROR "stderr does not match '${EXPECT_ERR_RE}': ${err}")
endif()
if(NOT err MATCHES "^error: [^\n]*\n$")
  message(FATAL_ERROR "stderr is not one 'error:' line: ${err}")
endif()
