#!/usr/bin/env bash
# e2e_functions.sh — `make check-functions` (tools/check_functions.py): the
# tree passes; a function of 101 lines or of 9 parameters fails naming it;
# 100 lines and 8 parameters pass; braces inside strings and comments and
# struct initialisers are not functions; an allowed exception passes and an
# exception that no longer applies fails.
cd "$(dirname "$0")/.." && source tests/lib.sh
CHK="python3 tools/check_functions.py"
check "the source tree is within the limits" $CHK
mkdir -p "$TMP/t/src/x" "$TMP/t/tools"
body() { for _ in $(seq "$1"); do echo "    x++;"; done; }
{
    echo 'static const int tab[] = {1, 2, 3};'
    echo 'struct S { int a; };'
    echo 'int ok100(int x)'; echo '{'; body 96; echo '    return x; /* { */'; echo '}'
    echo 'int ok8(int a, int b, int c, int d, int e, int f, int g, int (*h)(int, int)) { return "{"[0]; }'
} >"$TMP/t/src/x/good.c"
check "100 lines, 8 parameters, braces in strings and comments pass" $CHK --root "$TMP/t"
{
    echo 'int long101(int x)'; echo '{'; body 97; echo '    return x;'; echo '}'
    echo 'void nine(int a, int b, int c, int d, int e, int f, int g, int h, int i) {}'
} >"$TMP/t/src/x/bad.c"
$CHK --root "$TMP/t" >"$TMP/out"; rc=$?
check "101 lines or 9 parameters fail" test "$rc" = 1
check "names the long function" grep -q 'bad.c:1: long101: 101 lines' "$TMP/out"
check "names the 9-parameter function" grep -q 'nine: 9 params' "$TMP/out"
printf 'src/x/bad.c long101 lines\nsrc/x/bad.c nine params\n' >"$TMP/t/tools/function_limits.txt"
check "listed exceptions pass" $CHK --root "$TMP/t"
echo 'src/x/good.c ok100 lines' >>"$TMP/t/tools/function_limits.txt"
check_rc 1 "an exception that no longer applies fails" $CHK --root "$TMP/t"
report
