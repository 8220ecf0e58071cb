// Message heads written by Gantry: the start line, the fields in their order, the blank
// line, appended to a buffer the caller reuses. The head then leaves with the first body
// bytes in one gathered write; Beast's serializer walked a view of many small buffers
// for every message (the largest user-space cost in the keep-alive profile).
#pragma once

#include <string>

#include "asio.h"

namespace gantry::proxy {

// "METHOD target HTTP/x.y" and the fields; the method's own spelling when Beast does not
// know the verb.
void append_head(const http::request_header<Fields>& h, std::string& out);
// "HTTP/x.y code reason" and the fields; the standard reason phrase when none was given.
void append_head(const http::response_header<Fields>& h, std::string& out);

}  // namespace gantry::proxy
