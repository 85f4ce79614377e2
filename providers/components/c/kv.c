// `database:kv` as a component provider written in C (wasi-libc, bindings from wit-bindgen's
// C generator).
//
// `Get`, `Set` and `Delete` over a map kept in the warm instance (gone when the host recycles
// the instance: a cache, not storage). Payloads: `Get` and `Delete` take the key; `Set` takes
// the key, a NUL byte, then the value. Same contract and error texts as the Rust example in
// providers/components/kv.
//
// Ownership (canonical ABI, as generated in provider.c): the arguments of `handle` belong to
// us and are freed here; the `ret`/`err` we fill are freed by the generated post-return
// function, so everything in them is malloc'd (never static).

#include <stdlib.h>
#include <string.h>

#include "provider.h"

typedef exports_switchboard_provider_handler_error_t error_t_;

// A linear list: a few entries in an example provider. The host's memory cap bounds its size.
typedef struct entry {
    provider_list_u8_t key;
    provider_list_u8_t value;
    struct entry *next;
} entry_t;

static entry_t *entries = NULL;

// Copies `len` bytes into a fresh list (`ptr` NULL when empty, as the ABI expects).
static bool copy_bytes(provider_list_u8_t *out, const uint8_t *bytes, size_t len) {
    out->len = len;
    out->ptr = NULL;
    if (len == 0) {
        return true;
    }
    out->ptr = malloc(len);
    if (out->ptr == NULL) {
        return false;
    }
    memcpy(out->ptr, bytes, len);
    return true;
}

static entry_t **find(const uint8_t *key, size_t len) {
    entry_t **slot = &entries;
    while (*slot != NULL) {
        if ((*slot)->key.len == len && (len == 0 || memcmp((*slot)->key.ptr, key, len) == 0)) {
            return slot;
        }
        slot = &(*slot)->next;
    }
    return slot;
}

static bool invalid_input(error_t_ *err, const char *message) {
    err->tag = SWITCHBOARD_PROVIDER_TYPES_ERROR_INVALID_INPUT;
    provider_string_dup(&err->val.invalid_input, message);
    return false;
}

static bool failure(error_t_ *err, const char *message, const provider_list_u8_t *payload) {
    err->tag = SWITCHBOARD_PROVIDER_TYPES_ERROR_FAILURE;
    provider_string_dup(&err->val.failure.message, message);
    err->val.failure.payload.is_some = copy_bytes(&err->val.failure.payload.val, payload->ptr,
                                                  payload->len);
    return false;
}

static bool out_of_memory(error_t_ *err) {
    err->tag = SWITCHBOARD_PROVIDER_TYPES_ERROR_FAILURE;
    provider_string_dup(&err->val.failure.message, "out of memory");
    err->val.failure.payload.is_some = false;
    return false;
}

static bool kv_get(const provider_list_u8_t *key, provider_list_u8_t *ret, error_t_ *err) {
    entry_t *entry = *find(key->ptr, key->len);
    if (entry == NULL) {
        return failure(err, "key not found", key);
    }
    return copy_bytes(ret, entry->value.ptr, entry->value.len) || out_of_memory(err);
}

static bool kv_set(const provider_list_u8_t *payload, provider_list_u8_t *ret, error_t_ *err) {
    const uint8_t *nul = payload->len ? memchr(payload->ptr, 0, payload->len) : NULL;
    if (nul == NULL) {
        return invalid_input(err, "Set expects key, NUL, value");
    }
    size_t key_len = (size_t)(nul - payload->ptr);
    if (key_len == 0) {
        return invalid_input(err, "empty key");
    }
    const uint8_t *value = nul + 1;
    size_t value_len = payload->len - key_len - 1;

    provider_list_u8_t copy;
    if (!copy_bytes(&copy, value, value_len)) {
        return out_of_memory(err);
    }
    entry_t **slot = find(payload->ptr, key_len);
    if (*slot != NULL) {
        provider_list_u8_free(&(*slot)->value);
        (*slot)->value = copy;
    } else {
        entry_t *entry = malloc(sizeof(entry_t));
        if (entry == NULL || !copy_bytes(&entry->key, payload->ptr, key_len)) {
            free(entry);
            provider_list_u8_free(&copy);
            return out_of_memory(err);
        }
        entry->value = copy;
        entry->next = NULL;
        *slot = entry;
    }
    ret->ptr = NULL;
    ret->len = 0;
    return true;
}

static bool kv_delete(const provider_list_u8_t *key, provider_list_u8_t *ret) {
    entry_t **slot = find(key->ptr, key->len);
    entry_t *entry = *slot;
    if (entry != NULL) {
        *slot = entry->next;
        provider_list_u8_free(&entry->key);
        provider_list_u8_free(&entry->value);
        free(entry);
    }
    ret->ptr = NULL;
    ret->len = 0;
    return true;
}

static bool is(const provider_string_t *name, const char *expected) {
    size_t len = strlen(expected);
    return name->len == len && memcmp(name->ptr, expected, len) == 0;
}

// The `handler` export: dispatch on the operation name.
bool exports_switchboard_provider_handler_handle(exports_switchboard_provider_handler_call_info_t *call,
                                                 provider_list_u8_t *payload,
                                                 provider_list_u8_t *ret, error_t_ *err) {
    bool ok;
    if (is(&call->operation, "Get")) {
        ok = kv_get(payload, ret, err);
    } else if (is(&call->operation, "Set")) {
        ok = kv_set(payload, ret, err);
    } else if (is(&call->operation, "Delete")) {
        ok = kv_delete(payload, ret);
    } else {
        err->tag = SWITCHBOARD_PROVIDER_TYPES_ERROR_UNKNOWN_OPERATION;
        ok = false;
    }
    exports_switchboard_provider_handler_call_info_free(call);
    provider_list_u8_free(payload);
    return ok;
}
