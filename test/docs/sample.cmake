# A program of the documentation (the first ```cpp block of DOC after the string AFTER), extracted
# from the Markdown so that the page cannot drift from the code, compiled with the project's
# warnings as errors against INCLUDE and linked with LIBS only (none: the core headers alone), then
# run: it must exit with 0. WORK_DIR/NAME.cpp keeps the extracted source.
include(${CMAKE_CURRENT_LIST_DIR}/cpp_block.cmake)
file(READ ${DOC} doc)
secctx_cpp_block("${doc}" "${AFTER}" code)
file(MAKE_DIRECTORY ${WORK_DIR})
file(WRITE ${WORK_DIR}/${NAME}.cpp "${code}")
separate_arguments(libs UNIX_COMMAND "${LIBS}")
execute_process(COMMAND ${CXX} -std=c++20 -Wall -Wextra -Wpedantic -Werror -pthread -I${INCLUDE}
                        ${WORK_DIR}/${NAME}.cpp -o ${WORK_DIR}/${NAME} ${libs}
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "the program of ${DOC} after \"${AFTER}\" does not build")
endif()
execute_process(COMMAND ${WORK_DIR}/${NAME} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "the program of ${DOC} after \"${AFTER}\" exited with ${result}")
endif()
