# `aicc opt` behaviour (tests/cli/opt_cases.py): bad pass lists and flags,
# unloadable models and unwritable outputs (one-line errors, nothing left
# behind, the input never modified), stats, and -O2 of every model zoo entry
# checked by onnx.checker and onnxruntime against the original.
execute_process(COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/opt_cases.py --list
                OUTPUT_VARIABLE opt_cases OUTPUT_STRIP_TRAILING_WHITESPACE)
foreach(c ${opt_cases})
  add_test(NAME cli_opt_${c}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/opt_cases.py
                   --aicc $<TARGET_FILE:aicc> --zoo ${CMAKE_BINARY_DIR}/zoo ${c})
  set_tests_properties(cli_opt_${c} PROPERTIES TIMEOUT 300 LABELS cli)
endforeach()
