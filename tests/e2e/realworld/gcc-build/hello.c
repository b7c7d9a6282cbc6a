#include <stdio.h>
#include <unistd.h>

int main(void) {
    printf("hello from C, uid=%d, sum=%d\n", (int)getuid(), 40 + 2);
    return 0;
}
