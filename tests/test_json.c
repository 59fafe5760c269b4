/* JSON values (src/util/json.h): strings come out escaped as JSON requires, numbers with the
 * digits asked for and exact to the bit at TS_JSON_EXACT, and null where JSON has no value. */
#include "support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

static char *text_of(ts_strbuf *b)
{
    char *s = ts_strbuf_take(b);
    assert_non_null(s);
    return s;
}

static void strings_are_escaped(void **state)
{
    (void)state;
    ts_strbuf b = {0};
    ts_json_string(&b, "say \"hi\"\\ \n\r\t\x01\x1f\x7f caf\xc3\xa9");
    char *s = text_of(&b);
    assert_string_equal(s, "\"say \\\"hi\\\"\\\\ \\n\\r\\t\\u0001\\u001f\\u007f caf\xc3\xa9\"");
    free(s);
    ts_json_string(&b, NULL);
    ts_json_string(&b, "");
    s = text_of(&b);
    assert_string_equal(s, "null\"\"");
    free(s);
}

static void numbers_have_the_digits_asked_for_and_null_for_no_value(void **state)
{
    (void)state;
    ts_strbuf b = {0};
    const double x = 0.1 + 0.2; /* 0.30000000000000004 */
    ts_json_number(&b, x, 12);
    ts_strbuf_printf(&b, " ");
    ts_json_number(&b, x, TS_JSON_EXACT);
    ts_strbuf_printf(&b, " ");
    ts_json_number(&b, NAN, 12);
    ts_strbuf_printf(&b, " ");
    ts_json_number(&b, -INFINITY, TS_JSON_EXACT);
    char *s = text_of(&b);
    assert_string_equal(s, "0.3 0.30000000000000004 null null");
    /* exact: the text reads back as the same double */
    assert_true(strtod(strchr(s, ' ') + 1, NULL) == x);
    free(s);
}

static void arrays_take_every_stride_th_number(void **state)
{
    (void)state;
    ts_strbuf b = {0};
    const double v[6] = {1, 10, 2.5, 20, NAN, 30};
    ts_json_numbers(&b, v, 3, 2, 6);
    ts_json_numbers(&b, v, 0, 1, 6);
    ts_json_bool(&b, 1);
    ts_json_bool(&b, 0);
    char *s = text_of(&b);
    assert_string_equal(s, "[1, 2.5, null][]truefalse");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings_are_escaped),
        cmocka_unit_test(numbers_have_the_digits_asked_for_and_null_for_no_value),
        cmocka_unit_test(arrays_take_every_stride_th_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
