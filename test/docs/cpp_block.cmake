# secctx_cpp_block(TEXT AFTER OUT): the first ```cpp block of the Markdown TEXT that follows the
# string AFTER (empty: from the start), in OUT; a fatal error naming AFTER if there is none. The
# tests that build documentation samples take them from the Markdown itself, so the pages cannot
# drift from the code.
function(secctx_cpp_block text after out)
    if(NOT after STREQUAL "")
        string(FIND "${text}" "${after}" at)
        if(at EQUAL -1)
            message(FATAL_ERROR "no \"${after}\" in the document")
        endif()
        string(SUBSTRING "${text}" ${at} -1 text)
    endif()
    string(FIND "${text}" "```cpp\n" begin)
    if(begin EQUAL -1)
        message(FATAL_ERROR "no ```cpp block after \"${after}\"")
    endif()
    math(EXPR begin "${begin} + 7")
    string(SUBSTRING "${text}" ${begin} -1 rest)
    string(FIND "${rest}" "```" end)
    string(SUBSTRING "${rest}" 0 ${end} code)
    set(${out} "${code}" PARENT_SCOPE)
endfunction()
