/* Private to the scenario modules (schema.c, scenario.c, params.c): the row type of the schema
 * table and the helpers that walk it.
 *
 * One row describes one key of a scenario file: its type, where it lives in the C struct, its
 * default, its range and its meaning. The loader, `--set`, sweep validation, the YAML writer
 * and the Markdown reference all read the same rows, so a new parameter is one new row.
 * Not installed and not for the model, the runner or the command line (they use schema.h). */
#ifndef TRUSTSIM_SCHEMA_INTERNAL_H
#define TRUSTSIM_SCHEMA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "trustsim/params.h"

#define TS_PATH_MAX 512
#define TS_REASON_MAX 320

typedef enum ts_kind {
    TS_K_DOUBLE,   /* double */
    TS_K_INT,      /* int */
    TS_K_BOOL,     /* bool */
    TS_K_SEED,     /* uint64_t */
    TS_K_NAME,     /* char[len], ids and labels */
    TS_K_TEXT,     /* owned char *, NULL when absent */
    TS_K_ENUM,     /* int holding first + index into names */
    TS_K_DOUBLES,  /* fixed double[len] */
    TS_K_VALUES,   /* double * with int count at off2 (sweep values) */
    TS_K_REF,      /* int index of an element named by id, -1 when unset */
    TS_K_REFS,     /* int * with int count at off2: a list of ids */
    TS_K_REF_ONE,  /* one id, stored like TS_K_REFS as a list of one */
    TS_K_REF_PAIR, /* [a, b]: int at off and int at off2; bool at off3 set true when given */
    TS_K_MAP,      /* a mapping of the child rows in `keys`, based at off */
    TS_K_LIST,     /* a list of mappings: pointer at off, int count at off2 */
    TS_K_NAMED     /* a mapping id -> mapping: pointer at off, int count at off2 */
} ts_kind;

enum {
    TS_F_REQUIRED = 1u, /* the file must give it */
    TS_F_UNSET = 2u,    /* may stay unset (NaN or -1), and is then left out of the YAML output */
    TS_F_ID = 4u,       /* the element's id: validated, unique, never changed by --set */
    TS_F_ALIAS = 8u     /* another spelling of a neighbouring key: read, never written */
};

typedef enum ts_target { TS_TARGET_ORG, TS_TARGET_COLLAB, TS_TARGET_ARCHETYPE } ts_target;

typedef struct ts_range {
    double min, max; /* -INFINITY / INFINITY when unbounded */
    bool min_open, max_open;
} ts_range;

/* A cross-field rule that failed: which child key is at fault (NULL: the mapping itself). */
typedef struct ts_check_result {
    const char *key;
    char reason[TS_REASON_MAX];
} ts_check_result;
typedef bool (*ts_check_fn)(const void *base, const ts_params *p, ts_check_result *r);

typedef struct ts_list_spec ts_list_spec;

typedef struct ts_key {
    const char *name; /* NULL ends a table */
    ts_kind kind;
    unsigned flags;
    size_t off, off2, off3;   /* see ts_kind */
    double def;               /* numbers, bools (0/1), enums (stored value), refs (-1) */
    const double *defs;       /* TS_K_DOUBLES: one default per element */
    const char *def_text;     /* the default column of the reference, when not a number */
    ts_range range;           /* numbers, and each element of TS_K_DOUBLES */
    int len;                  /* TS_K_DOUBLES: count; TS_K_NAME: capacity with the NUL */
    const char *const *names; /* TS_K_ENUM */
    int n_names, first;
    ts_target target;                /* references */
    const struct ts_key *keys;       /* TS_K_MAP */
    const ts_list_spec *list;        /* TS_K_LIST, TS_K_NAMED */
    ts_check_fn check;               /* TS_K_MAP: rule over the children */
    const char *excl;                /* a key that may not be given together with this */
    bool (*shown)(const void *base); /* YAML output: write this key for this element? */
    const char *doc;                 /* one-line meaning with its docs/model.md section */
} ts_key;

struct ts_list_spec {
    const ts_key *keys; /* element keys, or NULL when they depend on a variant */
    size_t size;        /* element size */
    size_t keys_off;    /* element keys are based at element + keys_off */
    bool has_id;        /* elements are named by the `id` key (LIST) or the mapping key (NAMED) */
    ts_target target;   /* LIST with ids: what references to its elements are called */
    size_t id_off;
    int id_cap;
    bool id_is_path; /* NAMED keys are parameter paths, not ids */
    int min_count;
    const char *element;      /* how the reference names an element ("<id>", "<index>", ...) */
    const char *noun;         /* what an element is, in messages ("organisation") */
    void (*init)(void *elem); /* unset values before the defaults of the keys */
    ts_check_fn check;        /* rule over one element */
    /* default content when the key is absent; false only when out of memory */
    bool (*absent)(ts_params *p);
    /* variants: the element's keys are variants[value of variant_key] */
    const char *variant_key;
    size_t variant_off;
    const ts_key *const *variants;
    const char *const *variant_names;
    const char *const *variant_docs;
    int n_variants;
};

/* The top-level keys of a scenario file. */
extern const ts_key ts_schema_root[];

/* Names as written in files, indexed by the enum value (params.c). */
extern const char *const ts_strategy_names[TS_STRATEGY_COUNT];
extern const char *const ts_norm_names[3];
extern const char *const ts_observation_names[2];
extern const char *const ts_mode_names[2];
extern const char *const ts_tick_unit_names[3];
extern const char *const ts_event_type_names[TS_EVENT_COUNT];
extern const char *const ts_design_names[6];
extern const char *const ts_pillar_names[TS_PILLARS];

/* Raw access to a field of a struct described by a row. */
static inline void *ts_field(const void *base, size_t off)
{
    return (char *)base + off; /* rows describe mutable structs; see ts_schema_lookup */
}
void *ts_get_ptr(const void *base, size_t off);
void ts_set_ptr(void *base, size_t off, void *ptr);
int ts_get_int(const void *base, size_t off);

const ts_key *ts_schema_find_key(const ts_key *keys, const char *name);
/* The keys of one element of a list (its variant's keys for events). */
const ts_key *ts_schema_element_keys(const ts_list_spec *ls, const void *elem);
/* Set every row of keys at base to its default, recursively into mappings. */
void ts_schema_apply_defaults(const ts_key *keys, void *base);
/* A fresh element: zeroed, unset values, then the defaults of its keys. */
void ts_schema_init_element(const ts_list_spec *ls, void *elem, const ts_key *keys);

/* "a number", "an integer", "one of a, b, c", ... as used in "expected X, got Y". */
void ts_schema_expected(const ts_key *k, char *buf, size_t n);
void ts_schema_format_range(const ts_range *r, char *buf, size_t n);
void ts_schema_format_double(double v, char *buf, size_t n);
/* True when v is in r; otherwise reason reads "must be in [0, 1], got 1.5". */
bool ts_schema_check_range(const ts_range *r, double v, char *reason, size_t n);
/* Parse text into the scalar field (TS_K_DOUBLE .. TS_K_ENUM, TS_K_REF, or one element of
 * TS_K_DOUBLES) at `field`. TS_K_TEXT stores a fresh copy without freeing what was there. */
bool ts_schema_parse_scalar(const ts_key *k, const char *text, void *field, const ts_params *p,
                            char *reason, size_t n);
/* Ids name elements in paths, so they may not be empty nor hold dots, spaces or '='. */
bool ts_schema_valid_id(const char *s, int cap, char *reason, size_t n);
/* Index of the element of a target list with that id, or -1; and the noun for messages. */
int ts_schema_lookup_ref(const ts_params *p, ts_target t, const char *id);
const char *ts_schema_ref_id(const ts_params *p, ts_target t, int index);
const char *ts_schema_target_noun(ts_target t);

/* The scalar a dotted path names inside p. */
typedef struct ts_schema_leaf {
    const ts_key *key;
    void *field;  /* inside p */
    bool element; /* one element of a TS_K_DOUBLES row: a double with the row's range */
} ts_schema_leaf;
bool ts_schema_lookup(const ts_params *p, const char *path, ts_schema_leaf *leaf, char *reason,
                      size_t n);
/* Run every cross-field rule over p; on failure path names the key at fault. */
bool ts_schema_validate(const ts_params *p, char *path, size_t path_n, char *reason, size_t n);

#endif
