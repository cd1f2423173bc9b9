/*
 * json.h — the one JSON writer: numbers that round-trip, escaped strings,
 * vectors. Every JSON file and line the program writes (eval.json,
 * metrics.jsonl, sweep summaries, inspect, gradcheck) goes through it.
 */
#ifndef METAGRID_JSON_H
#define METAGRID_JSON_H

#include <stddef.h>
#include <stdio.h>

/* A double with 17 significant digits (round-trips); JSON has no inf/nan,
 * so a non-finite value is written as null. */
void json_num(FILE *f, double x);
/* A quoted string: '"' and '\\' escaped, control characters as \u00XX. */
void json_str(FILE *f, const char *s);
/* The same for the first n bytes of s (no NUL needed). */
void json_strn(FILE *f, const char *s, size_t n);
/* [x0,x1,...] with json_num. */
void json_vec(FILE *f, const double *x /*(n)*/, size_t n);

#endif
