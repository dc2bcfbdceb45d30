int cli_stub_render;
