{
  "targets": [
    {
      "target_name": "tsgi",
      "sources": [
        "native/addon.cc",
        "native/http_parser.cc",
        "native/cgi_vars.cc",
        "native/key_table.cc",
        "native/uwsgi_parser.cc",
        "native/proxy_parser.cc",
        "native/scoreboard.cc",
        "native/master.cc",
        "native/sockets.cc",
        "native/request_log.cc",
        "native/body_sink.cc",
        "native/server.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++1y", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]
    }
  ]
}
