/* The growing string (src/util/strbuf.h): formatted and raw pieces come out in order, however
 * long the text grows; an empty buffer gives an empty string; the buffer is empty again after
 * its text is taken or freed. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

static void pieces_come_out_in_order_however_long_the_text(void **state)
{
    (void)state;
    ts_strbuf b = {0};
    char want[40000];
    size_t len = 0;
    for (int i = 0; i < 3000; i++) { /* far past the first capacity, several doublings */
        ts_strbuf_printf(&b, "%d,", i);
        len += (size_t)snprintf(want + len, sizeof want - len, "%d,", i);
        if (i % 100 == 0) {
            ts_strbuf_append(&b, "ab\0c", 4); /* bytes as given, a NUL among them */
            memcpy(want + len, "ab\0c", 4);
            len += 4;
        }
    }
    assert_false(b.failed);
    assert_int_equal(b.len, len);
    assert_memory_equal(b.s, want, len);
    assert_int_equal(b.s[len], '\0');
    char *text = ts_strbuf_take(&b);
    assert_non_null(text);
    assert_memory_equal(text, want, len);
    assert_null(b.s);
    assert_int_equal(b.len, 0);
    free(text);
}

static void an_empty_buffer_gives_an_empty_string(void **state)
{
    (void)state;
    ts_strbuf b = {0};
    char *text = ts_strbuf_take(&b);
    assert_non_null(text);
    assert_string_equal(text, "");
    free(text);
    ts_strbuf_printf(&b, "%s", "");
    text = ts_strbuf_take(&b);
    assert_string_equal(text, "");
    free(text);
}

static void a_failed_buffer_gives_nothing(void **state)
{
    (void)state;
    ts_strbuf b = {0};
    ts_strbuf_printf(&b, "kept until it failed");
    b.failed = true; /* as after an allocation that failed */
    ts_strbuf_printf(&b, " and more");
    ts_strbuf_append(&b, "x", 1);
    assert_null(ts_strbuf_take(&b));
    assert_false(b.failed); /* empty and usable again */
    ts_strbuf_printf(&b, "again");
    char *text = ts_strbuf_take(&b);
    assert_string_equal(text, "again");
    free(text);
    ts_strbuf_printf(&b, "freed");
    ts_strbuf_free(&b);
    assert_null(b.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pieces_come_out_in_order_however_long_the_text),
        cmocka_unit_test(an_empty_buffer_gives_an_empty_string),
        cmocka_unit_test(a_failed_buffer_gives_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
