int cli_stub_client;
