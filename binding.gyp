{
  "targets": [
    {
      "target_name": "tsgi",
      "sources": [
        "native/addon.cc",
        "native/protocol/http_parser.cc",
        "native/protocol/uwsgi_parser.cc",
        "native/protocol/proxy_parser.cc",
        "native/protocol/cgi_vars.cc",
        "native/protocol/key_table.cc",
        "native/protocol/request_log.cc",
        "native/protocol/body_sink.cc",
        "native/protocol/response.cc",
        "native/protocol/websocket_parser.cc",
        "native/process/master.cc",
        "native/process/exit_watchdog.cc",
        "native/process/sockets.cc",
        "native/process/scoreboard.cc",
        "native/server/server.cc",
        "native/server/settings.cc",
        "native/server/listener.cc",
        "native/server/reading.cc",
        "native/server/dispatch.cc",
        "native/server/send.cc",
        "native/server/output.cc",
        "native/server/log.cc",
        "native/server/closing.cc",
        "native/server/upgrade.cc",
        "native/server/websocket.cc",
        "native/server/sys.cc"
      ],
      "include_dirs": [
        "native",
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
