int cli_stub_main;
int main(void){return 0;}
