// The conformance suite (support/conformance.hpp) over an in-process memory link.
#include "support/conformance.hpp"

SECCTX_CONFORMANCE_SUITE(conformance_memory, secctx::test::conformance::memory_pair)
