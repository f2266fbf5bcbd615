// The OpenSSL 3 engine: its provider, credentials, attributes and throwaway CA, and the roles over
// it. Link secctx::openssl (or secctx::secctx, where it is the default engine).
#pragma once

#include "secctx/roles.hpp"
#include "secctx/tls/openssl/attributes.hpp"
#include "secctx/tls/openssl/credentials.hpp"
#include "secctx/tls/openssl/provider.hpp"
#include "secctx/tls/openssl/throwaway_ca.hpp"

namespace secctx::openssl {

using client = basic_client<provider>;
using server = basic_server<provider>;

static_assert(role<client> && role<server>);

} // namespace secctx::openssl
