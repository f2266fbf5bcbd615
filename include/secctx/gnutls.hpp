// The GnuTLS engine: its provider, credentials, attributes and throwaway CA, and the roles over
// it. Link secctx::gnutls.
#pragma once

#include "secctx/roles.hpp"
#include "secctx/tls/gnutls/attributes.hpp"
#include "secctx/tls/gnutls/credentials.hpp"
#include "secctx/tls/gnutls/provider.hpp"
#include "secctx/tls/gnutls/throwaway_ca.hpp"

namespace secctx::gnutls {

using client = basic_client<provider>;
using server = basic_server<provider>;

static_assert(role<client> && role<server>);

} // namespace secctx::gnutls
