//! Tasks that exercise the container contract: every row of the `error.pb` table, decks, secrets,
//! checkpoints, several outputs and none. The entrypoint tests and `bench/execute.sh` run this
//! binary the way Flyte runs a task's container:
//!
//! ```text
//! cargo run --example contract -- execute --inputs inputs.pb --output-prefix out/ \
//!     --resolver flytekit.resolver.default -- task-module contract task-name add
//! ```

use flytekit::prelude::*;

/// Adds two numbers.
///
/// * `a` - the first addend
/// * `b` - the second addend
#[task]
pub fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Greets someone, asynchronously.
#[task]
pub async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

/// Returns the input and its decimal rendering: two outputs, `o0` and `o1`.
#[task]
pub fn split(a: i64) -> (i64, String) {
    (a, a.to_string())
}

/// Has no outputs: `outputs.pb` is an empty literal map.
#[task]
pub fn nothing(x: i64) {
    let _ = x;
}

/// Fails with an ordinary error: `USER:RuntimeError`, non-recoverable.
#[task]
pub fn fail_user(x: i64) -> Result<i64, std::io::Error> {
    Err(std::io::Error::other(format!("cannot handle {x}")))
}

/// Fails with a recoverable error: `USER:Recoverable`, recoverable.
#[task]
pub fn fail_recoverable(x: i64) -> Result<i64, RecoverableError> {
    Err(RecoverableError::new(format!("try {x} again later")))
}

/// Fails with its own error code.
#[task]
pub fn fail_code(x: i64) -> Result<i64, UserError> {
    Err(UserError::new(
        "USER:QuotaExceeded",
        format!("quota exceeded at {x}"),
    ))
}

/// Fails recoverably on the first attempt and succeeds on the next (Flyte retries it).
#[task(retries = 2)]
pub fn flaky(cx: &ExecutionContext, x: i64) -> Result<i64, RecoverableError> {
    if cx.attempt() == 0 {
        Err(RecoverableError::new("first attempts fail"))
    } else {
        Ok(x + cx.attempt() as i64 * 100)
    }
}

/// Fails for good even with retries left: a non-recoverable error is not retried on Flyte.
#[task(retries = 2)]
pub fn broken(x: i64) -> Result<i64, std::io::Error> {
    Err(std::io::Error::other(format!("broken for {x}")))
}

/// Panics: reported as a USER error, like an uncaught exception.
#[task]
pub fn panics(x: i64) -> i64 {
    panic!("boom at {x}")
}

/// Returns a file that does not exist: output conversion fails (SYSTEM, non-recoverable).
#[task]
pub fn bad_output(x: i64) -> FlyteFile {
    FlyteFile::new(format!("/nonexistent/flytekit-rs/{x}.txt"))
}

/// Asks for its outputs to be ignored: nothing is written.
#[task]
pub fn ignored(x: i64) -> Result<i64, IgnoreOutputs> {
    let _ = x;
    Err(IgnoreOutputs)
}

/// Writes a deck with user content next to the built-in ones.
#[task(enable_deck = true)]
pub fn with_deck(cx: &ExecutionContext, x: i64) -> i64 {
    cx.add_deck(Deck::markdown(
        "Report",
        &format!("# Squares\n\n{x} squared is **{}**", x * x),
    ));
    x * x
}

/// Reads a secret and returns its length (never the value).
#[task(secret(group = "db", key = "password"))]
pub fn secret_len(cx: &ExecutionContext, x: i64) -> Result<i64, flytekit::secrets::SecretError> {
    Ok(cx.secret("db", "password")?.expose().len() as i64 + x)
}

/// Reads the previous attempt's checkpoint (if any) and writes the next one.
#[task]
pub async fn checkpointed(
    cx: &ExecutionContext,
    x: i64,
) -> Result<i64, flytekit::storage::StorageError> {
    let Some(cp) = cx.checkpoint() else {
        return Ok(x);
    };
    let prev = match cp.read().await? {
        Some(b) => String::from_utf8_lossy(&b).parse::<i64>().unwrap_or(0),
        None => 0,
    };
    let next = prev + x;
    cp.write(next.to_string().into_bytes()).await?;
    Ok(next)
}

/// Sleeps `ms` milliseconds (for signal and timeout tests), then returns it.
#[task]
pub fn sleepy(ms: i64) -> i64 {
    std::thread::sleep(std::time::Duration::from_millis(ms.max(0) as u64));
    ms
}

/// Reads a text file: in an image that lacks it, the task fails as it would on a cluster.
#[task]
pub fn read_text(path: String) -> Result<String, std::io::Error> {
    std::fs::read_to_string(&path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot read {path}: {e}")))
}

/// The value of the environment variable `name` in the task's container ("" when unset).
#[task]
pub fn env_of(name: String) -> String {
    std::env::var(&name).unwrap_or_default()
}

fn main() {
    flytekit::main()
}
