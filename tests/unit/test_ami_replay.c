/* The bridge program's live AMI path, end to end without kicd: the real
 * kic-ami-bridge (--stdout) logs in to kic-ami-replay, which writes the
 * recording in 333-byte pieces and drops the connection three times; the
 * events must equal what --map-file gives (test_replay.sh beside them). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

START_TEST(live_path_with_drops_equals_map_file)
{
    char bridge[512];
    snprintf(bridge, sizeof(bridge), "%s/kic-ami-bridge", KIC_AMI_BIN_DIR);
    ck_assert_msg(access(bridge, X_OK) == 0, "%s not built", bridge);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "sh %s/test_replay.sh %s %s/A-ami.raw", KIC_AMI_TOOL_DIR,
             KIC_AMI_BIN_DIR, KIC_SHARED_AMI_DIR);
    int status = system(cmd);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed (%d)", cmd, status);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ami_replay");
    TCase *tc = tcase_create("live");
    tcase_set_timeout(tc, 100);
    tcase_add_test(tc, live_path_with_drops_equals_map_file);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
