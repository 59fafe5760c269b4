/* Reading YAML documents (see src/scenario/yamldoc.h): parsing with libyaml, one document per
 * file, located errors, and the accessors every reader walks the tree with. */
#include "scenario/yamldoc.h"

#include <string.h>

/* libyaml's syntax errors carry a mark, but its reader errors (bytes that are not UTF-8) only
 * an offset: count lines and characters up to it. */
static ts_status syntax_error(const char *file, const char *text, const yaml_parser_t *parser,
                              ts_error *err)
{
    if (parser->error == YAML_MEMORY_ERROR)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory", file);
    size_t line = parser->problem_mark.line, column = parser->problem_mark.column;
    if (parser->error == YAML_READER_ERROR) {
        line = column = 0;
        for (size_t i = 0; i < parser->problem_offset && text[i]; i++) {
            if (text[i] == '\n')
                line++, column = 0;
            else if (((unsigned char)text[i] & 0xC0) != 0x80) /* columns count characters */
                column++;
        }
    }
    return ts_error_at(err, TS_EINPUT, file, line + 1, column + 1, NULL, "YAML syntax error: %s",
                       parser->problem ? parser->problem : "unknown problem");
}

/* A second document in the stream would be silently ignored: refuse it. */
static ts_status expect_end(yaml_parser_t *parser, const char *file, const char *text,
                            ts_error *err)
{
    yaml_document_t next;
    if (!yaml_parser_load(parser, &next))
        return syntax_error(file, text, parser, err);
    yaml_node_t *root = yaml_document_get_root_node(&next);
    ts_status st = TS_OK;
    if (root)
        st = ts_error_at(err, TS_EINPUT, file, root->start_mark.line + 1,
                         root->start_mark.column + 1, NULL,
                         "expected one YAML document, found more");
    yaml_document_delete(&next);
    return st;
}

ts_status ts_yaml_read(const char *text, const char *file, ts_yaml_read_fn read, void *ctx,
                       ts_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory", file);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    ts_status st;
    if (!yaml_parser_load(&parser, &doc)) {
        st = syntax_error(file, text, &parser, err);
    } else {
        ts_yaml y = {.doc = &doc, .file = file, .err = err};
        st = read(&y, yaml_document_get_root_node(&doc), ctx);
        if (st == TS_OK)
            st = expect_end(&parser, file, text, err);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    return st;
}

ts_status ts_yaml_vfail(const ts_yaml *y, const yaml_node_t *at, const char *key, const char *fmt,
                        va_list ap)
{
    return ts_error_vat(y->err, TS_EINPUT, y->file, at->start_mark.line + 1,
                        at->start_mark.column + 1, key, fmt, ap);
}

ts_status ts_yaml_fail(const ts_yaml *y, const yaml_node_t *at, const char *key, const char *fmt,
                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    ts_status st = ts_yaml_vfail(y, at, key, fmt, ap);
    va_end(ap);
    return st;
}

ts_status ts_yaml_out_of_memory(const ts_yaml *y)
{
    return ts_error_set(y->err, TS_ERUNTIME, "%s: out of memory", y->file);
}

int ts_yaml_line(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

int ts_yaml_column(const yaml_node_t *n)
{
    return (int)n->start_mark.column + 1;
}

const char *ts_yaml_kind(const yaml_node_t *n)
{
    return n->type == YAML_SEQUENCE_NODE  ? "a list"
           : n->type == YAML_MAPPING_NODE ? "a mapping"
                                          : "a scalar";
}

const char *ts_yaml_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

bool ts_yaml_is_scalar(const yaml_node_t *n, const char *text)
{
    return n->type == YAML_SCALAR_NODE && (!text || strcmp(ts_yaml_text(n), text) == 0);
}

bool ts_yaml_is_plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

int ts_yaml_count(const yaml_node_t *n)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (n->type == YAML_MAPPING_NODE)
        return (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    return 0;
}

yaml_node_t *ts_yaml_item(const ts_yaml *y, const yaml_node_t *list, int i)
{
    return yaml_document_get_node(y->doc, list->data.sequence.items.start[i]);
}

yaml_node_t *ts_yaml_key(const ts_yaml *y, const yaml_node_t *map, int i)
{
    return yaml_document_get_node(y->doc, map->data.mapping.pairs.start[i].key);
}

yaml_node_t *ts_yaml_value(const ts_yaml *y, const yaml_node_t *map, int i)
{
    return yaml_document_get_node(y->doc, map->data.mapping.pairs.start[i].value);
}

yaml_node_t *ts_yaml_get(const ts_yaml *y, const yaml_node_t *map, const char *name)
{
    if (map->type != YAML_MAPPING_NODE)
        return NULL;
    for (int i = 0; i < ts_yaml_count(map); i++)
        if (ts_yaml_is_scalar(ts_yaml_key(y, map, i), name))
            return ts_yaml_value(y, map, i);
    return NULL;
}
