/*
 * The C host of memberledger: the shared scenario (tests/fixtures/scenario), 8 threads on
 * shared members, and every error path of the ABI. Run by crates/ffi/tests/c_program.rs
 * (also under valgrind).
 *
 *   scenario FIXTURE_DIR WORK_DIR
 *
 * Exit 0 when every check holds; otherwise each failed check is printed and the exit is 1.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memberledger.h"

static int failures = 0;

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      failures++;                                                          \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                        \
      fprintf(stderr, "\n");                                               \
    }                                                                      \
  } while (0)

/* The whole of a file, NUL-terminated; NULL when it cannot be read. */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while (buf != NULL && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len < 2) {
      char *bigger = realloc(buf, cap * 2);
      if (bigger == NULL) { free(buf); buf = NULL; break; }
      buf = bigger;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf != NULL) buf[len] = '\0';
  return buf;
}

static char *path_join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* The next line of *cursor (its newline replaced by NUL), or NULL at the end. */
static char *next_line(char **cursor) {
  char *line = *cursor;
  if (line == NULL || *line == '\0') return NULL;
  char *nl = strchr(line, '\n');
  if (nl != NULL) { *nl = '\0'; *cursor = nl + 1; } else { *cursor = line + strlen(line); }
  return line;
}

/* Calls that answer a string: check the code, free the string. */
static int check_answer(int code, char *out, int want, const char *what) {
  CHECK(code == want, "%s: got %d (%s), want %d (%s): %s", what, code,
        ml_code_name(code) ? ml_code_name(code) : "?", want, ml_code_name(want),
        out ? out : "(null)");
  CHECK(out != NULL, "%s: no string", what);
  ml_string_free(out);
  return code == want;
}

/* Runs CALL (which writes its string to `out`), then checks its code. */
#define EXPECT(CALL, WANT, WHAT)              \
  do {                                        \
    char *out = NULL;                         \
    int code_ = (CALL);                       \
    check_answer(code_, out, (WANT), (WHAT)); \
  } while (0)

/* The shared scenario: each command's outcome and every member's view, as in the fixture. */
static void shared_scenario(MlLedger *ledger, const char *fixtures) {
  char *cpath = path_join(fixtures, "commands.jsonl");
  char *opath = path_join(fixtures, "outcomes.txt");
  char *mpath = path_join(fixtures, "members.jsonl");
  char *commands = slurp(cpath), *outcomes = slurp(opath), *members = slurp(mpath);
  CHECK(commands && outcomes && members, "cannot read the fixtures in %s", fixtures);
  if (commands && outcomes && members) {
    char *cc = commands, *oc = outcomes, *mc = members, *line, *want;
    int n = 0;
    while ((line = next_line(&cc)) != NULL && (want = next_line(&oc)) != NULL) {
      char *out = NULL;
      int code = ml_execute(ledger, line, &out);
      n++;
      if (strcmp(want, "ok") == 0 || strcmp(want, "replayed") == 0) {
        CHECK(code == ML_OK, "command %d: %d %s", n, code, out);
        int replayed = out != NULL && strstr(out, "\"replayed\":true") != NULL;
        CHECK(replayed == (strcmp(want, "replayed") == 0), "command %d: %s", n, out);
      } else {
        CHECK(code != ML_OK && strcmp(ml_code_name(code), want) == 0,
              "command %d: got %s, want %s: %s", n, ml_code_name(code), want, out);
      }
      ml_string_free(out);
    }
    CHECK(n == 22, "ran %d commands", n);
    int views = 0;
    while ((line = next_line(&mc)) != NULL) {
      char id[64] = {0};
      CHECK(sscanf(line, "{\"member\":\"%63[^\"]\"", id) == 1, "members.jsonl: %s", line);
      char *out = NULL;
      int code = ml_member(ledger, id, NULL, &out);
      CHECK(code == ML_OK && strcmp(out, line) == 0, "member %s:\n  got  %s\n  want %s", id,
            out, line);
      ml_string_free(out);
      views++;
    }
    CHECK(views == 3, "%d views", views);
  }
  free(commands); free(outcomes); free(members);
  free(cpath); free(opath); free(mpath);
}

/* The reads: as of a time, statement, policy, verify, export. */
static void reads(MlLedger *ledger, const char *work) {
  char *out = NULL;
  int code = ml_member(ledger, "M1", "2026-03-01T12:00:00Z", &out);
  CHECK(code == ML_OK && strstr(out, "\"principal\":\"1000.00\"") && strstr(out, "\"bonus\":\"150.00\""),
        "M1 as of: %s", out);
  ml_string_free(out);
  code = ml_statement(ledger, "M1", "2026-03-02T00:00:00Z", NULL, &out);
  CHECK(code == ML_OK && strstr(out, "\"opening\"") && strstr(out, "\"kind\":\"consumed\""),
        "statement: %s", out);
  ml_string_free(out);
  code = ml_policy(ledger, NULL, &out);
  CHECK(code == ML_OK && strstr(out, "\"version\":1"), "policy: %s", out);
  ml_string_free(out);
  code = ml_verify(ledger, &out);
  CHECK(code == ML_OK && strstr(out, "\"problem\":null"), "verify: %s", out);
  ml_string_free(out);
  char *file = path_join(work, "export.hledger");
  code = ml_export(ledger, "hledger", file, &out);
  CHECK(code == ML_OK && strstr(out, "\"events\":"), "export: %s", out);
  ml_string_free(out);
  char *journal = slurp(file);
  CHECK(journal != NULL && strstr(journal, "Liabilities") != NULL, "the export file");
  free(journal);
  free(file);
}

/* A batch: commands and a non-command, each answered in place. */
static void batch(MlLedger *ledger) {
  const char *commands =
      "[{\"id\":\"5ce0a710-0000-4000-8000-0000000000b1\",\"at\":\"2026-03-11T09:00:00Z\","
      "\"type\":\"enroll\",\"member\":\"B1\",\"store\":\"S1\"},"
      "{\"id\":\"5ce0a710-0000-4000-8000-0000000000b2\",\"type\":\"teleport\"},"
      "{\"id\":\"5ce0a710-0000-4000-8000-0000000000b3\",\"at\":\"2026-03-11T09:01:00Z\","
      "\"type\":\"consume\",\"member\":\"B1\",\"store\":\"S1\",\"amount\":\"5.00\"}]";
  char *out = NULL;
  int code = ml_execute_batch(ledger, commands, &out);
  CHECK(code == ML_OK, "batch: %d %s", code, out);
  if (code == ML_OK) {
    char *first = strstr(out, "\"ok\":true");
    CHECK(first != NULL, "batch: %s", out);
    CHECK(strstr(out, "\"code\":\"invalid_command\"") != NULL, "batch: %s", out);
    CHECK(strstr(out, "\"code\":\"insufficient_balance\"") != NULL, "batch: %s", out);
  }
  ml_string_free(out);
}

/* Every error path of the ABI answers its code and a message, and records nothing. */
static void errors(MlLedger *ledger, const char *work) {
  char *out = NULL;
  CHECK(ml_execute(ledger, "{}", NULL) == ML_INVALID_ARGUMENT, "NULL out");
  EXPECT(ml_execute(NULL, "{}", &out), ML_INVALID_ARGUMENT, "NULL ledger");
  EXPECT(ml_execute(ledger, NULL, &out), ML_INVALID_ARGUMENT, "NULL command");
  EXPECT(ml_execute(ledger, "\xff\xfe", &out), ML_INVALID_ARGUMENT, "not UTF-8");
  EXPECT(ml_execute(ledger, "not json", &out), ML_INVALID_COMMAND, "not JSON");
  EXPECT(ml_execute(ledger,
                    "{\"id\":\"5ce0a710-0000-4000-8000-000000000004\",\"at\":\"2026-03-01T10:00:00Z\","
                    "\"type\":\"recharge\",\"member\":\"M1\",\"store\":\"S1\",\"amount\":\"999.00\"}",
                    &out), ML_IDEMPOTENCY_CONFLICT, "an id used for a different command");
  EXPECT(ml_execute(ledger,
                    "{\"id\":\"5ce0a710-0000-4000-8000-0000000000e1\",\"at\":\"2026-03-01T00:00:00Z\","
                    "\"type\":\"consume\",\"member\":\"M1\",\"store\":\"S1\",\"amount\":\"1.00\"}",
                    &out), ML_OUT_OF_ORDER, "a time before the member's last command");
  EXPECT(ml_execute(ledger,
                    "{\"id\":\"5ce0a710-0000-4000-8000-0000000000e2\",\"at\":\"2999-01-01T00:00:00Z\","
                    "\"type\":\"consume\",\"member\":\"M1\",\"store\":\"S1\",\"amount\":\"1.00\"}",
                    &out), ML_FUTURE_TIME, "a time far ahead of the clock");
  EXPECT(ml_execute_batch(ledger, "{}", &out), ML_INVALID_COMMAND, "a batch not an array");
  EXPECT(ml_execute_batch(ledger, "[]", &out), ML_BATCH_TOO_LARGE, "an empty batch");
  EXPECT(ml_member(ledger, "M404", NULL, &out), ML_MEMBER_NOT_FOUND, "an unknown member");
  EXPECT(ml_member(ledger, "bad id!", NULL, &out), ML_INVALID_ID, "a malformed id");
  EXPECT(ml_member(ledger, NULL, NULL, &out), ML_INVALID_ARGUMENT, "NULL member");
  EXPECT(ml_member(ledger, "M1", "yesterday", &out), ML_INVALID_COMMAND, "a malformed time");
  EXPECT(ml_statement(ledger, "M1", "2026-03-05T00:00:00Z", "2026-03-01T00:00:00Z", &out), ML_INVALID_ARGUMENT, "a period that ends before it starts");
  EXPECT(ml_statement(ledger, "M404", NULL, NULL, &out), ML_MEMBER_NOT_FOUND,
         "the statement of an unknown member");
  EXPECT(ml_policy(ledger, "soon", &out), ML_INVALID_COMMAND, "policy at a malformed time");
  EXPECT(ml_export(ledger, "pdf", "x.pdf", &out), ML_INVALID_ARGUMENT, "an unknown format");
  char *nowhere = path_join(work, "no/such/dir/export.csv");
  EXPECT(ml_export(ledger, "csv", nowhere, &out), ML_IO, "an export that cannot be written");
  free(nowhere);
  EXPECT(ml_verify(NULL, &out), ML_INVALID_ARGUMENT, "verify a NULL ledger");

  MlLedger *other = NULL;
  EXPECT(ml_open(NULL, NULL, &other, &out), ML_INVALID_ARGUMENT, "open NULL path");
  CHECK(other == NULL, "no handle on failure");
  EXPECT(ml_open_in_memory("{not a policy", &other, &out), ML_INVALID_POLICY,
         "a malformed policy");
  CHECK(other == NULL, "no handle on failure");
  CHECK(ml_open(work, NULL, NULL, &out) == ML_INVALID_ARGUMENT, "NULL handle out");

  CHECK(strcmp(ml_code_name(ML_INSUFFICIENT_BALANCE), "insufficient_balance") == 0, "names");
  CHECK(strcmp(ml_code_name(ML_OK), "ok") == 0, "names");
  CHECK(ml_code_name(12345) == NULL, "no name for a number that is no code");
  ml_string_free(NULL);
  ml_close(NULL);
}

/* Opening a ledger with a different policy than it was founded with is refused. */
static void policy_mismatch(const char *work) {
  char *dir = path_join(work, "policy-ledger");
  MlLedger *ledger = NULL;
  EXPECT(ml_open(dir, NULL, &ledger, &out), ML_OK, "a new ledger");
  char *policy = NULL;
  CHECK(ml_policy(ledger, NULL, &policy) == ML_OK, "policy");
  ml_close(ledger);
  /* The same policy as the founding one opens; another is refused. */
  char *rules = policy ? strstr(policy, "\"policy\":") : NULL;
  if (rules != NULL) {
    rules += strlen("\"policy\":");
    rules[strlen(rules) - 1] = '\0'; /* drop the closing brace of the version */
    ledger = NULL;
    EXPECT(ml_open(dir, rules, &ledger, &out), ML_OK, "the founding policy again");
    ml_close(ledger);
    char *changed = strstr(rules, "\"currency\":\"");
    if (changed != NULL) changed[strlen("\"currency\":\"")] = 'X';
    ledger = NULL;
    EXPECT(ml_open(dir, rules, &ledger, &out), ML_INVALID_POLICY, "another policy");
    CHECK(ledger == NULL, "no handle on failure");
  }
  ml_string_free(policy);
  free(dir);
}

#define THREADS 8
#define PER_THREAD 24

struct worker { MlLedger *ledger; int index; int failed; };

/* Each thread credits a point to the shared members T1 and T2, turn about. */
static void *work(void *arg) {
  struct worker *w = arg;
  for (int i = 0; i < PER_THREAD; i++) {
    char command[512];
    snprintf(command, sizeof command,
             "{\"id\":\"7e000000-0000-4000-8000-%04d%08d\",\"at\":\"2026-04-01T10:00:00Z\","
             "\"type\":\"adjust\",\"member\":\"T%d\",\"store\":\"S1\",\"balance\":\"points\","
             "\"direction\":\"credit\",\"points\":1,\"reason\":\"thread test\",\"operator\":\"E1\"}",
             w->index, i, 1 + i % 2);
    char *out = NULL;
    if (ml_execute(w->ledger, command, &out) != ML_OK) {
      fprintf(stderr, "thread %d: %s\n", w->index, out);
      w->failed++;
    }
    ml_string_free(out);
  }
  return NULL;
}

/* 8 threads at once on shared members: no lost update, and verify passes after. */
static void threads(MlLedger *ledger) {
  char *out = NULL;
  EXPECT(ml_execute(ledger,
                    "{\"id\":\"7e000000-0000-4000-8000-100000000001\",\"at\":\"2026-04-01T09:00:00Z\","
                    "\"type\":\"enroll\",\"member\":\"T1\",\"store\":\"S1\"}", &out), ML_OK, "enroll T1");
  EXPECT(ml_execute(ledger,
                    "{\"id\":\"7e000000-0000-4000-8000-100000000002\",\"at\":\"2026-04-01T09:00:00Z\","
                    "\"type\":\"enroll\",\"member\":\"T2\",\"store\":\"S1\"}", &out), ML_OK, "enroll T2");
  pthread_t ids[THREADS];
  struct worker workers[THREADS];
  for (int t = 0; t < THREADS; t++) {
    workers[t] = (struct worker){ledger, t, 0};
    CHECK(pthread_create(&ids[t], NULL, work, &workers[t]) == 0, "thread %d", t);
  }
  for (int t = 0; t < THREADS; t++) {
    pthread_join(ids[t], NULL);
    CHECK(workers[t].failed == 0, "thread %d: %d commands failed", t, workers[t].failed);
  }
  char want[64];
  snprintf(want, sizeof want, "\"points\":%d,", THREADS * PER_THREAD / 2);
  for (int m = 1; m <= 2; m++) {
    char id[8];
    snprintf(id, sizeof id, "T%d", m);
    int code = ml_member(ledger, id, NULL, &out);
    CHECK(code == ML_OK && strstr(out, want) != NULL, "%s: want %s in %s", id, want, out);
    ml_string_free(out);
  }
  EXPECT(ml_verify(ledger, &out), ML_OK, "verify after the threads");
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FIXTURE_DIR WORK_DIR\n", argv[0]);
    return 2;
  }
  const char *fixtures = argv[1], *work_dir = argv[2];
  char *dir = path_join(work_dir, "ledger");
  MlLedger *ledger = NULL;
  char *message = NULL;
  int code = ml_open(dir, NULL, &ledger, &message);
  CHECK(code == ML_OK && ledger != NULL, "open: %d %s", code, message);
  ml_string_free(message);
  if (ledger != NULL) {
    shared_scenario(ledger, fixtures);
    reads(ledger, work_dir);
    batch(ledger);
    errors(ledger, work_dir);
    threads(ledger);
    /* A second open of a ledger this process holds open is refused, not shared. */
    MlLedger *twice = NULL;
    code = ml_open(dir, NULL, &twice, &message);
    CHECK(code != ML_OK && twice == NULL, "a second open: %d %s", code, message);
    ml_string_free(message);
    ml_close(ledger);
  }
  policy_mismatch(work_dir);
  free(dir);
#ifdef LEAK_ON_PURPOSE
  /* For the test that valgrind catches a string never freed. */
  char *leaked = NULL;
  if (ml_open_in_memory(NULL, &ledger, &leaked) == ML_OK) ml_close(ledger);
  leaked = NULL;
#endif
  if (failures > 0) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("scenario: all checks passed\n");
  return 0;
}
