// The single translation unit that compiles Boost.Beast's implementation and Asio's SSL
// (separate compilation): only the HTTPS services link it.
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
