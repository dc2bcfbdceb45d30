int cli_stub_cmd_search;
