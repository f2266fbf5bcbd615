# The provider skeleton of docs/concepts.md ("Another provider", its first ```cpp block), which
# docs/engines.md points a third engine's author to: extracted from the Markdown, so the page cannot
# drift from the code, compiled with the project's warnings as errors against the core headers and
# linked with no engine library at all, then run.
file(READ ${DOC} doc)
string(FIND "${doc}" "## Another provider" section)
if(section EQUAL -1)
    message(FATAL_ERROR "${DOC} has no \"Another provider\" section")
endif()
string(SUBSTRING "${doc}" ${section} -1 doc)
string(FIND "${doc}" "```cpp\n" begin)
if(begin EQUAL -1)
    message(FATAL_ERROR "the \"Another provider\" section has no ```cpp block")
endif()
math(EXPR begin "${begin} + 7")
string(SUBSTRING "${doc}" ${begin} -1 rest)
string(FIND "${rest}" "```" end)
string(SUBSTRING "${rest}" 0 ${end} code)
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
