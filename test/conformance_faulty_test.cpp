// The conformance suite (support/conformance.hpp) over a memory link whose ends fragment every
// read and write to a few bytes and answer would_block every other call.
#include "support/conformance.hpp"

SECCTX_CONFORMANCE_SUITE(conformance_faulty, secctx::test::conformance::faulty_memory_pair)
