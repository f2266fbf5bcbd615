#define BOOST_TEST_MODULE secctx
#include <boost/test/unit_test.hpp>
