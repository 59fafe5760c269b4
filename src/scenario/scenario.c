/* Scenario files: YAML text in, validated ts_params out (by walking the schema table of
 * schema.c over libyaml's document tree); `--set` overrides; ts_params back out as YAML
 * through libyaml's emitter.
 *
 * Not for describing keys, defaults or ranges (schema.c owns them all), nor for the memory of
 * ts_params (params.c). Errors are values naming FILE:LINE:COL and the key; nothing is
 * printed. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "scenario/schema_internal.h"
#include "scenario/yamldoc.h"
#include "trustsim/scenario.h"

#include "util/strbuf.h"
#include "util/textfile.h"

/* ------------------------------------------------------------------------------------------ */
/* The loader's state: the document, the parameters being filled, the key path so far.         */

/* Ids of a list already loaded, hashed: checking uniqueness and resolving references stay
 * linear in the size of the scenario, which matters at 10^4 organisations. */
typedef struct id_set {
    const char **ids; /* point into the ts_params being filled */
    int *index;
    size_t cap; /* a power of two, or 0 when the list has no set */
} id_set;

typedef struct loader {
    const ts_yaml *y;
    ts_params *p;
    char path[TS_PATH_MAX];
    size_t len;
    id_set ids[TS_TARGET_ARCHETYPE + 1]; /* by ts_target */
} loader;

static bool id_set_init(id_set *s, int n)
{
    free(s->ids);
    free(s->index);
    for (s->cap = 16; s->cap < 2 * (size_t)n; s->cap *= 2)
        ;
    s->ids = calloc(s->cap, sizeof *s->ids);
    s->index = calloc(s->cap, sizeof *s->index);
    return s->ids && s->index;
}

static void id_set_free(id_set *s)
{
    free(s->ids);
    free(s->index);
    *s = (id_set){0};
}

/* The slot holding id, or the empty slot where it belongs (FNV-1a, linear probing). */
static size_t id_slot(const id_set *s, const char *id)
{
    uint64_t h = 14695981039346656037u;
    for (const unsigned char *c = (const unsigned char *)id; *c; c++)
        h = (h ^ *c) * 1099511628211u;
    size_t i = (size_t)h & (s->cap - 1);
    while (s->ids[i] && strcmp(s->ids[i], id) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int id_set_find(const id_set *s, const char *id)
{
    size_t i = id_slot(s, id);
    return s->ids[i] ? s->index[i] : -1;
}

static void id_set_add(id_set *s, const char *id, int index)
{
    size_t i = id_slot(s, id);
    s->ids[i] = id;
    s->index[i] = index;
}

/* Append a path segment; returns the length to restore with pop(). */
static size_t push(loader *l, const char *seg)
{
    size_t old = l->len;
    int k = snprintf(l->path + old, sizeof l->path - old, "%s%s", old ? "." : "", seg);
    size_t len = old + (k > 0 ? (size_t)k : 0);
    l->len = len < sizeof l->path ? len : sizeof l->path - 1;
    return old;
}

static void pop(loader *l, size_t old)
{
    l->len = old;
    l->path[old] = '\0';
}

/* A fault at node `at`, named by the key path so far. */
static ts_status fail(loader *l, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ts_status fail(loader *l, const yaml_node_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ts_status st = ts_yaml_vfail(l->y, at, l->path, fmt, ap);
    va_end(ap);
    return st;
}

static ts_status out_of_memory(loader *l)
{
    return ts_yaml_out_of_memory(l->y);
}

/* ------------------------------------------------------------------------------------------ */
/* Values.                                                                                     */

static ts_status load_value(loader *l, const ts_key *k, yaml_node_t *v, void *base);

static ts_status load_scalar(loader *l, const ts_key *k, yaml_node_t *v, void *field)
{
    char reason[TS_REASON_MAX];
    if (v->type != YAML_SCALAR_NODE) {
        ts_schema_expected(k, reason, sizeof reason);
        return fail(l, v, "expected %s, got %s", reason, ts_yaml_kind(v));
    }
    if (ts_schema_parse_scalar(k, ts_yaml_text(v), field, l->p, reason, sizeof reason))
        return TS_OK;
    return k->kind == TS_K_TEXT ? out_of_memory(l) : fail(l, v, "%s", reason);
}

/* Each element of a list of numbers, addressed by index in messages. */
static ts_status load_numbers(loader *l, const ts_key *k, yaml_node_t *v, double *out)
{
    for (int i = 0; i < ts_yaml_count(v); i++) {
        char index[16];
        snprintf(index, sizeof index, "%d", i);
        size_t mark = push(l, index);
        ts_status st = load_scalar(l, k, ts_yaml_item(l->y, v, i), &out[i]);
        pop(l, mark);
        if (st)
            return st;
    }
    return TS_OK;
}

static ts_status load_doubles(loader *l, const ts_key *k, yaml_node_t *v, void *base)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(l, v, "expected a list");
    if (ts_yaml_count(v) != k->len)
        return fail(l, v, "expected %d values, got %d", k->len, ts_yaml_count(v));
    return load_numbers(l, k, v, ts_field(base, k->off));
}

static ts_status load_values(loader *l, const ts_key *k, yaml_node_t *v, void *base)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(l, v, "expected a list");
    int n = ts_yaml_count(v);
    if (n < 1)
        return fail(l, v, "expected at least 1 entry");
    double *values = calloc((size_t)n, sizeof *values);
    if (!values)
        return out_of_memory(l);
    ts_set_ptr(base, k->off, values);
    *(int *)ts_field(base, k->off2) = n;
    return load_numbers(l, k, v, values);
}

static ts_status load_ref(loader *l, const ts_key *k, yaml_node_t *v, int *out)
{
    if (v->type != YAML_SCALAR_NODE)
        return fail(l, v, "expected an id, got %s", ts_yaml_kind(v));
    const id_set *set = &l->ids[k->target];
    int i = set->cap ? id_set_find(set, ts_yaml_text(v))
                     : ts_schema_lookup_ref(l->p, k->target, ts_yaml_text(v));
    if (i < 0)
        return fail(l, v, "%s '%s' is not defined", ts_schema_target_noun(k->target),
                    ts_yaml_text(v));
    *out = i;
    return TS_OK;
}

/* A list of ids (members, organisations of an event): each defined, none twice. */
static ts_status load_refs(loader *l, const ts_key *k, yaml_node_t *v, void *base)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(l, v, "expected a list");
    int n = ts_yaml_count(v);
    if (n < 1)
        return fail(l, v, "expected at least 1 entry");
    int *ids = calloc((size_t)n, sizeof *ids);
    if (!ids)
        return out_of_memory(l);
    ts_set_ptr(base, k->off, ids);
    *(int *)ts_field(base, k->off2) = n;
    for (int i = 0; i < n; i++) {
        yaml_node_t *it = ts_yaml_item(l->y, v, i);
        ts_status st = load_ref(l, k, it, &ids[i]);
        if (st)
            return st;
        for (int j = 0; j < i; j++)
            if (ids[j] == ids[i])
                return fail(l, it, "%s '%s' is listed twice", ts_schema_target_noun(k->target),
                            ts_yaml_text(it));
    }
    return TS_OK;
}

static ts_status load_ref_one(loader *l, const ts_key *k, yaml_node_t *v, void *base)
{
    int id = -1;
    ts_status st = load_ref(l, k, v, &id);
    if (st)
        return st;
    int *ids = malloc(sizeof *ids);
    if (!ids)
        return out_of_memory(l);
    ids[0] = id;
    ts_set_ptr(base, k->off, ids);
    *(int *)ts_field(base, k->off2) = 1;
    return TS_OK;
}

static ts_status load_ref_pair(loader *l, const ts_key *k, yaml_node_t *v, void *base)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(l, v, "expected a list");
    if (ts_yaml_count(v) != 2)
        return fail(l, v, "expected 2 values, got %d", ts_yaml_count(v));
    ts_status st = load_ref(l, k, ts_yaml_item(l->y, v, 0), ts_field(base, k->off));
    if (!st)
        st = load_ref(l, k, ts_yaml_item(l->y, v, 1), ts_field(base, k->off2));
    *(bool *)ts_field(base, k->off3) = true;
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Mappings.                                                                                   */

/* Keys are scalars, none twice, each known (keys NULL: any name), none with its exclusion. */
static ts_status scan_keys(loader *l, const ts_key *keys, const yaml_node_t *map, const char *extra)
{
    for (int i = 0; i < ts_yaml_count(map); i++) {
        yaml_node_t *kn = ts_yaml_key(l->y, map, i);
        if (kn->type != YAML_SCALAR_NODE)
            return fail(l, kn, "expected a key, got %s", ts_yaml_kind(kn));
        const char *name = ts_yaml_text(kn);
        size_t mark = push(l, name);
        const ts_key *k = keys ? ts_schema_find_key(keys, name) : NULL;
        ts_status st = TS_OK;
        for (int j = 0; j < i && !st; j++)
            if (ts_yaml_is_scalar(ts_yaml_key(l->y, map, j), name))
                st = fail(l, kn, "duplicate key");
        if (!st && keys && !k && !(extra && strcmp(name, extra) == 0))
            st = fail(l, kn, "unknown key");
        if (!st && k && k->excl && ts_yaml_get(l->y, map, k->excl))
            st = fail(l, kn, "cannot be combined with '%s'", k->excl);
        pop(l, mark);
        if (st)
            return st;
    }
    return TS_OK;
}

/* Report a failed cross-field rule at the key it names, or at `at`. */
static ts_status run_check(loader *l, ts_check_fn check, const void *base, const yaml_node_t *map,
                           const yaml_node_t *at)
{
    ts_check_result r = {0};
    if (!check || check(base, l->p, &r))
        return TS_OK;
    size_t mark = l->len;
    if (r.key) {
        push(l, r.key);
        yaml_node_t *v = ts_yaml_get(l->y, map, r.key);
        at = v ? v : map;
    }
    ts_status st = fail(l, at, "%s", r.reason);
    pop(l, mark);
    return st;
}

static ts_status load_absent(loader *l, const ts_key *k, const yaml_node_t *map)
{
    if (k->flags & TS_F_REQUIRED)
        return fail(l, map, "required key missing");
    if (k->kind == TS_K_LIST && k->list->absent && !k->list->absent(l->p))
        return out_of_memory(l);
    return TS_OK;
}

/* Rows are visited in table order, so references always point to lists already loaded. */
static ts_status load_mapping(loader *l, const ts_key *keys, yaml_node_t *map, void *base,
                              const char *extra)
{
    if (map->type != YAML_MAPPING_NODE)
        return fail(l, map, "expected a mapping");
    ts_status st = scan_keys(l, keys, map, extra);
    for (const ts_key *k = keys; k->name && !st; k++) {
        yaml_node_t *v = ts_yaml_get(l->y, map, k->name);
        size_t mark = push(l, k->name);
        st = v ? load_value(l, k, v, base) : load_absent(l, k, map);
        pop(l, mark);
    }
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Lists of elements.                                                                          */

/* The keys of an event-like element, chosen by its `type`, with the element set up for them. */
static ts_status load_variant(loader *l, const ts_list_spec *ls, yaml_node_t *v, void *elem,
                              const ts_key **keys)
{
    ts_key type_key = {.name = ls->variant_key,
                       .kind = TS_K_ENUM,
                       .names = ls->variant_names,
                       .n_names = ls->n_variants};
    yaml_node_t *tn = ts_yaml_get(l->y, v, ls->variant_key);
    size_t mark = push(l, ls->variant_key);
    int type = 0;
    ts_status st = tn ? load_scalar(l, &type_key, tn, &type) : fail(l, v, "required key missing");
    pop(l, mark);
    if (st)
        return st;
    *keys = ls->variants[type];
    ts_schema_init_element(ls, elem, *keys);
    *(int *)ts_field(elem, ls->variant_off) = type;
    return TS_OK;
}

static ts_status check_unique_id(loader *l, const ts_list_spec *ls, const char *elem, int i,
                                 yaml_node_t *v)
{
    id_set *set = &l->ids[ls->target];
    const char *id = elem + ls->id_off;
    if (id_set_find(set, id) < 0) {
        id_set_add(set, id, i);
        return TS_OK;
    }
    size_t mark = push(l, "id");
    ts_status st = fail(l, ts_yaml_get(l->y, v, "id"), "duplicate id '%s'", id);
    pop(l, mark);
    return st;
}

static ts_status load_element(loader *l, const ts_list_spec *ls, yaml_node_t *v, char *arr, int i)
{
    char *elem = arr + (size_t)i * ls->size;
    if (v->type != YAML_MAPPING_NODE)
        return fail(l, v, "expected a mapping");
    const ts_key *keys = ls->keys;
    ts_status st = TS_OK;
    if (ls->variants)
        st = load_variant(l, ls, v, elem, &keys);
    else
        ts_schema_init_element(ls, elem, keys);
    if (!st)
        st = load_mapping(l, keys, v, elem + ls->keys_off, ls->variant_key);
    if (!st && ls->has_id)
        st = check_unique_id(l, ls, elem, i, v);
    return st ? st : run_check(l, ls->check, elem, v, v);
}

/* The array is attached to the parameters before its elements load, so it is freed with them
 * whatever happens. */
static char *attach_array(void *base, const ts_key *k, int n)
{
    char *arr = calloc((size_t)(n > 0 ? n : 1), k->list->size);
    if (arr) {
        ts_set_ptr(base, k->off, arr);
        *(int *)ts_field(base, k->off2) = n;
    }
    return arr;
}

static ts_status load_list(loader *l, const ts_key *k, yaml_node_t *v, void *base)
{
    const ts_list_spec *ls = k->list;
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(l, v, "expected a list");
    int n = ts_yaml_count(v);
    if (n < ls->min_count)
        return fail(l, v, "expected at least %d entry", ls->min_count);
    char *arr = attach_array(base, k, n);
    if (!arr || (ls->has_id && !id_set_init(&l->ids[ls->target], n)))
        return out_of_memory(l);
    ts_status st = TS_OK;
    for (int i = 0; i < n && !st; i++) {
        yaml_node_t *it = ts_yaml_item(l->y, v, i);
        yaml_node_t *id = ls->has_id ? ts_yaml_get(l->y, it, "id") : NULL;
        char index[16], reason[TS_REASON_MAX];
        snprintf(index, sizeof index, "%d", i);
        /* Elements with a valid id are named by it in messages, as in --set paths. */
        bool named = id && ts_yaml_is_scalar(id, NULL) &&
                     ts_schema_valid_id(ts_yaml_text(id), ls->id_cap, reason, sizeof reason);
        size_t mark = push(l, named ? ts_yaml_text(id) : index);
        st = load_element(l, ls, it, arr, i);
        pop(l, mark);
    }
    return st;
}

/* A mapping name -> element (archetypes, sweep parameters). */
static ts_status load_named(loader *l, const ts_key *k, yaml_node_t *v, void *base)
{
    const ts_list_spec *ls = k->list;
    if (v->type != YAML_MAPPING_NODE)
        return fail(l, v, "expected a mapping");
    ts_status st = scan_keys(l, NULL, v, NULL);
    int n = ts_yaml_count(v);
    if (!st && n < ls->min_count)
        return fail(l, v, "expected at least %d entry", ls->min_count);
    char *arr = st ? NULL : attach_array(base, k, n);
    if (!st && !arr)
        return out_of_memory(l);
    for (int i = 0; i < n && !st; i++) {
        char *elem = arr + (size_t)i * ls->size, reason[TS_REASON_MAX];
        yaml_node_t *kn = ts_yaml_key(l->y, v, i), *vn = ts_yaml_value(l->y, v, i);
        const char *name = ts_yaml_text(kn);
        size_t mark = push(l, name), len = strlen(name);
        ts_schema_init_element(ls, elem, ls->keys);
        if (ls->id_is_path && len >= (size_t)ls->id_cap)
            st = fail(l, kn, "must be at most %d characters, got %zu", ls->id_cap - 1, len);
        else if (!ls->id_is_path && !ts_schema_valid_id(name, ls->id_cap, reason, sizeof reason))
            st = fail(l, kn, "%s", reason);
        if (!st) {
            memcpy(elem + ls->id_off, name, len + 1);
            st = load_mapping(l, ls->keys, vn, elem + ls->keys_off, NULL);
        }
        if (!st)
            st = run_check(l, ls->check, elem, vn, kn);
        pop(l, mark);
    }
    return st;
}

static ts_status load_value(loader *l, const ts_key *k, yaml_node_t *v, void *base)
{
    switch (k->kind) {
    case TS_K_DOUBLES:
        return load_doubles(l, k, v, base);
    case TS_K_VALUES:
        return load_values(l, k, v, base);
    case TS_K_REFS:
        return load_refs(l, k, v, base);
    case TS_K_REF_ONE:
        return load_ref_one(l, k, v, base);
    case TS_K_REF_PAIR:
        return load_ref_pair(l, k, v, base);
    case TS_K_MAP: {
        void *sub = ts_field(base, k->off);
        ts_status st = load_mapping(l, k->keys, v, sub, NULL);
        return st ? st : run_check(l, k->check, sub, v, v);
    }
    case TS_K_LIST:
        return load_list(l, k, v, base);
    case TS_K_NAMED:
        return load_named(l, k, v, base);
    default:
        return load_scalar(l, k, v, ts_field(base, k->off));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Loading a scenario.                                                                         */

static ts_status load_root(const ts_yaml *y, yaml_node_t *root, void *ctx)
{
    if (!root)
        return ts_error_set(y->err, TS_EINPUT, "%s:1:1: the scenario is empty", y->file);
    if (root->type != YAML_MAPPING_NODE)
        return ts_yaml_fail(y, root, NULL, "expected a mapping of keys, got %s",
                            ts_yaml_kind(root));
    loader l = {.y = y, .p = ctx};
    ts_status st = load_mapping(&l, ts_schema_root, root, l.p, NULL);
    for (size_t i = 0; i < sizeof l.ids / sizeof l.ids[0]; i++)
        id_set_free(&l.ids[i]);
    return st;
}

ts_status ts_scenario_load_string(ts_scenario *sc, const char *text, const char *name,
                                  ts_error *err)
{
    memset(sc, 0, sizeof *sc);
    ts_params_init_defaults(&sc->params);
    ts_status st = ts_yaml_read(text, name, load_root, &sc->params, err);
    if (!st) {
        sc->path = strdup(name);
        sc->text = strdup(text);
        if (!sc->path || !sc->text)
            st = ts_error_set(err, TS_ERUNTIME, "%s: out of memory", name);
    }
    if (st)
        ts_scenario_destroy(sc);
    return st;
}

ts_status ts_scenario_load(ts_scenario *sc, const char *path, ts_error *err)
{
    memset(sc, 0, sizeof *sc);
    char *text;
    ts_status st = ts_read_text_file(path, &text, err);
    if (st != TS_OK)
        return st;
    st = ts_scenario_load_string(sc, text, path, err);
    free(text);
    return st;
}

void ts_scenario_destroy(ts_scenario *sc)
{
    if (!sc)
        return;
    ts_params_destroy(&sc->params);
    free(sc->path);
    free(sc->text);
    memset(sc, 0, sizeof *sc);
}

/* ------------------------------------------------------------------------------------------ */
/* --set path=value                                                                            */

static size_t field_size(const ts_schema_leaf *leaf)
{
    switch (leaf->key->kind) {
    case TS_K_INT:
    case TS_K_ENUM:
    case TS_K_REF:
        return sizeof(int);
    case TS_K_BOOL:
        return sizeof(bool);
    case TS_K_SEED:
        return sizeof(uint64_t);
    case TS_K_NAME:
        return (size_t)leaf->key->len;
    case TS_K_TEXT:
        return sizeof(char *);
    default:
        return sizeof(double);
    }
}

ts_status ts_scenario_set(ts_scenario *sc, const char *assignment, ts_error *err)
{
    const char *eq = strchr(assignment, '=');
    char path[TS_PATH_MAX], reason[TS_REASON_MAX], where[TS_PATH_MAX];
    if (!eq || eq == assignment)
        return ts_error_set(err, TS_EINPUT, "--set: expected path=value, got '%s'", assignment);
    snprintf(path, sizeof path, "%.*s", (int)(eq - assignment), assignment);
    ts_schema_leaf leaf;
    if (!ts_schema_lookup(&sc->params, path, &leaf, reason, sizeof reason))
        return ts_error_set(err, TS_EINPUT, "--set: key '%s': %s", path, reason);
    /* Keep the old value: a change that breaks a cross-field rule is undone. */
    unsigned char saved[TS_NAME_MAX];
    size_t size = field_size(&leaf);
    memcpy(saved, leaf.field, size);
    if (!ts_schema_parse_scalar(leaf.key, eq + 1, leaf.field, &sc->params, reason, sizeof reason))
        return ts_error_set(err, TS_EINPUT, "--set: key '%s': %s", path, reason);
    bool valid = ts_schema_validate(&sc->params, where, sizeof where, reason, sizeof reason);
    if (leaf.key->kind == TS_K_TEXT) {
        char *old;
        memcpy(&old, saved, sizeof old);
        free(valid ? old : *(char **)leaf.field);
    }
    if (!valid) {
        memcpy(leaf.field, saved, size);
        return ts_error_set(err, TS_EINPUT, "--set: key '%s': %s", where, reason);
    }
    return TS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing YAML: the same rows, through libyaml's document API and emitter.                    */

typedef struct writer {
    yaml_document_t doc;
    const ts_params *p;
    bool ok; /* false once libyaml ran out of memory */
} writer;

static int add_scalar(writer *w, const char *s)
{
    int id = yaml_document_add_scalar(&w->doc, NULL, (yaml_char_t *)s, (int)strlen(s),
                                      YAML_ANY_SCALAR_STYLE);
    w->ok = w->ok && id;
    return id;
}

static int add_number(writer *w, double v)
{
    char buf[40];
    ts_schema_format_double(v, buf, sizeof buf);
    return add_scalar(w, buf);
}

static int add_sequence(writer *w, yaml_sequence_style_t style)
{
    int id = yaml_document_add_sequence(&w->doc, NULL, style);
    w->ok = w->ok && id;
    return id;
}

static int add_mapping(writer *w)
{
    int id = yaml_document_add_mapping(&w->doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    w->ok = w->ok && id;
    return id;
}

static void append_item(writer *w, int seq, int item)
{
    w->ok = w->ok && seq && item && yaml_document_append_sequence_item(&w->doc, seq, item);
}

static void append_pair(writer *w, int map, const char *key, int value)
{
    int k = add_scalar(w, key);
    w->ok = w->ok && map && value && yaml_document_append_mapping_pair(&w->doc, map, k, value);
}

/* Unset overrides, empty lists and alternative spellings are left out: reading the output back
 * gives them again. */
static bool shown(const ts_key *k, const void *base)
{
    if (k->flags & TS_F_ALIAS)
        return false;
    if (k->shown)
        return k->shown(base);
    const void *f = ts_field(base, k->off);
    switch (k->kind) {
    case TS_K_DOUBLE:
        return !isnan(*(const double *)f);
    case TS_K_INT:
    case TS_K_ENUM:
    case TS_K_REF:
        return !((k->flags & TS_F_UNSET) && *(const int *)f == -1);
    case TS_K_TEXT:
        return ts_get_ptr(base, k->off) != NULL;
    case TS_K_VALUES:
    case TS_K_REFS:
    case TS_K_REF_ONE:
    case TS_K_LIST:
    case TS_K_NAMED:
        return ts_get_int(base, k->off2) > 0;
    case TS_K_MAP:
        for (const ts_key *c = k->keys; c->name; c++)
            if (shown(c, f))
                return true;
        return false;
    default:
        return true;
    }
}

static int write_value(writer *w, const ts_key *k, const void *base);

static int write_mapping(writer *w, const ts_key *keys, const void *base, const ts_list_spec *ls,
                         const void *elem)
{
    int map = add_mapping(w);
    if (ls && ls->variants) {
        int type = ts_get_int(elem, ls->variant_off);
        append_pair(w, map, ls->variant_key, add_scalar(w, ls->variant_names[type]));
    }
    for (const ts_key *k = keys; k && k->name; k++)
        if (shown(k, base))
            append_pair(w, map, k->name, write_value(w, k, base));
    return map;
}

static int write_numbers(writer *w, const double *v, int n)
{
    int seq = add_sequence(w, YAML_FLOW_SEQUENCE_STYLE);
    for (int i = 0; i < n; i++)
        append_item(w, seq, add_number(w, v[i]));
    return seq;
}

static int write_refs(writer *w, ts_target t, const int *ids, int n)
{
    int seq = add_sequence(w, YAML_FLOW_SEQUENCE_STYLE);
    for (int i = 0; i < n; i++)
        append_item(w, seq, add_scalar(w, ts_schema_ref_id(w->p, t, ids[i])));
    return seq;
}

static int write_elements(writer *w, const ts_key *k, const void *base)
{
    const ts_list_spec *ls = k->list;
    const char *arr = ts_get_ptr(base, k->off);
    int n = ts_get_int(base, k->off2);
    int out = k->kind == TS_K_LIST ? add_sequence(w, YAML_BLOCK_SEQUENCE_STYLE) : add_mapping(w);
    for (int i = 0; i < n; i++) {
        const char *elem = arr + (size_t)i * ls->size;
        int m = write_mapping(w, ts_schema_element_keys(ls, elem), elem + ls->keys_off, ls, elem);
        if (k->kind == TS_K_LIST)
            append_item(w, out, m);
        else
            append_pair(w, out, elem + ls->id_off, m);
    }
    return out;
}

static int write_value(writer *w, const ts_key *k, const void *base)
{
    const void *f = ts_field(base, k->off);
    char buf[40];
    switch (k->kind) {
    case TS_K_DOUBLE:
        return add_number(w, *(const double *)f);
    case TS_K_INT:
        snprintf(buf, sizeof buf, "%d", *(const int *)f);
        return add_scalar(w, buf);
    case TS_K_BOOL:
        return add_scalar(w, *(const bool *)f ? "true" : "false");
    case TS_K_SEED:
        snprintf(buf, sizeof buf, "%" PRIu64, *(const uint64_t *)f);
        return add_scalar(w, buf);
    case TS_K_NAME:
        return add_scalar(w, f);
    case TS_K_TEXT:
        return add_scalar(w, ts_get_ptr(base, k->off));
    case TS_K_ENUM:
        return add_scalar(w, k->names[*(const int *)f - k->first]);
    case TS_K_REF:
        return add_scalar(w, ts_schema_ref_id(w->p, k->target, *(const int *)f));
    case TS_K_DOUBLES:
        return write_numbers(w, f, k->len);
    case TS_K_VALUES:
        return write_numbers(w, ts_get_ptr(base, k->off), ts_get_int(base, k->off2));
    case TS_K_REFS:
    case TS_K_REF_ONE: {
        const int *ids = ts_get_ptr(base, k->off);
        int n = ts_get_int(base, k->off2);
        return k->kind == TS_K_REFS ? write_refs(w, k->target, ids, n)
                                    : add_scalar(w, ts_schema_ref_id(w->p, k->target, ids[0]));
    }
    case TS_K_REF_PAIR: {
        int ids[2] = {*(const int *)f, ts_get_int(base, k->off2)};
        return write_refs(w, k->target, ids, 2);
    }
    case TS_K_MAP:
        return write_mapping(w, k->keys, f, NULL, NULL);
    default:
        return write_elements(w, k, base);
    }
}

static int append_output(void *data, unsigned char *bytes, size_t size)
{
    ts_strbuf *b = data;
    ts_strbuf_append(b, (const char *)bytes, size);
    return !b->failed;
}

static bool emit(yaml_document_t *doc, ts_strbuf *out)
{
    yaml_emitter_t em;
    if (!yaml_emitter_initialize(&em)) {
        yaml_document_delete(doc);
        return false;
    }
    yaml_emitter_set_output(&em, append_output, out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, 100);
    bool opened = yaml_emitter_open(&em);
    /* yaml_emitter_dump takes the document, even when it fails; only an unopened emitter
     * leaves it to us. */
    bool ok = opened && yaml_emitter_dump(&em, doc) && yaml_emitter_close(&em);
    if (!opened)
        yaml_document_delete(doc);
    yaml_emitter_delete(&em);
    return ok;
}

char *ts_params_to_yaml(const ts_params *p)
{
    writer w = {.p = p, .ok = true};
    if (!yaml_document_initialize(&w.doc, NULL, NULL, NULL, 1, 1))
        return NULL;
    write_mapping(&w, ts_schema_root, p, NULL, NULL);
    ts_strbuf out = {0};
    if (!w.ok) {
        yaml_document_delete(&w.doc);
        return NULL;
    }
    if (!emit(&w.doc, &out)) {
        ts_strbuf_free(&out);
        return NULL;
    }
    return ts_strbuf_take(&out);
}
