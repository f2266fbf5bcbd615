# The provider skeleton of docs/concepts.md ("Another provider", its first ```cpp block), which
# docs/engines.md points a third engine's author to: extracted from the Markdown, so the page cannot
# drift from the code, compiled with the project's warnings as errors against the core headers and
# linked with no engine library at all, then run.
include(${CMAKE_CURRENT_LIST_DIR}/cpp_block.cmake)
file(READ ${DOC} doc)
secctx_cpp_block("${doc}" "## Another provider" code)
file(MAKE_DIRECTORY ${WORK_DIR})
file(WRITE ${WORK_DIR}/provider_skeleton.cpp "${code}")
execute_process(COMMAND ${CXX} -std=c++20 -Wall -Wextra -Wpedantic -Werror -I${INCLUDE}
                        ${WORK_DIR}/provider_skeleton.cpp -o ${WORK_DIR}/provider_skeleton
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "the provider skeleton of ${DOC} does not build without an engine")
endif()
execute_process(COMMAND ${WORK_DIR}/provider_skeleton RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "the provider skeleton of ${DOC} exited with ${result}")
endif()
