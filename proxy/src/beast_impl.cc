// The one translation unit that compiles Asio and Beast (separate compilation): the rest
// of the tree includes their headers without the implementation, so a change to one
// proxy file recompiles in seconds.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
