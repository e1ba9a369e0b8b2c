# sedx_expect_matches(<text> <regex>[|<regex>...] <what>): a fatal error naming the first regex that
# <text> does not match ("<what> does not match '<regex>'"). Shared by the -P scripts of the tests.
function(sedx_expect_matches text patterns what)
    string(REPLACE "|" ";" patterns "${patterns}")
    foreach(pattern IN LISTS patterns)
        if(NOT text MATCHES "${pattern}")
            message(FATAL_ERROR "${what} does not match '${pattern}'")
        endif()
    endforeach()
endfunction()
