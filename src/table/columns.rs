//! Column names of the canonical sample table (DESIGN section 3), in one place.
//!
//! Every stage after ingest reads only these names. The table carries a few
//! columns beyond the design's list, for provenance and for the diagnosis
//! stage: `primary_filter`, `prompt_hash`, `task_version`, `n_shot`,
//! `max_gen_toks` and `source` (`file:line` of the record the row came from).

pub const RUN: &str = "run";
pub const BENCHMARK: &str = "benchmark";
pub const TASK: &str = "task";
pub const FILTER: &str = "filter";
/// True on the rows of the filter chosen to score the task (DESIGN section 3:
/// one filter per task; default the task's first).
pub const PRIMARY_FILTER: &str = "primary_filter";
pub const ITEM_ID: &str = "item_id";
pub const SAMPLE_IDX: &str = "sample_idx";
pub const PROMPT: &str = "prompt";
pub const TARGET: &str = "target";
pub const RESPONSE: &str = "response";
pub const EXTRACTED: &str = "extracted";
pub const SCORE: &str = "score";
pub const CORRECT: &str = "correct";
pub const FINISH_REASON: &str = "finish_reason";
pub const RESPONSE_TOKENS: &str = "response_tokens";
pub const RESPONSE_CHARS: &str = "response_chars";
pub const META: &str = "meta";
pub const PROMPT_HASH: &str = "prompt_hash";
pub const TASK_VERSION: &str = "task_version";
pub const N_SHOT: &str = "n_shot";
pub const MAX_GEN_TOKS: &str = "max_gen_toks";
pub const SOURCE: &str = "source";
/// After `tag`: ids of the rules that fired for the row's item.
pub const TAG_RULES: &str = "tag_rules";

/// The value an axis holds when no rule gave it one.
pub const UNKNOWN: &str = "unknown";

/// The four standard axes of the evaluation taxonomy.
pub const STANDARD_AXES: [&str; 4] = ["background", "task_type", "operation", "output_constraint"];

/// Every base column, in the order they are written.
pub const BASE: [&str; 22] = [
    RUN,
    BENCHMARK,
    TASK,
    FILTER,
    PRIMARY_FILTER,
    ITEM_ID,
    SAMPLE_IDX,
    PROMPT,
    TARGET,
    RESPONSE,
    EXTRACTED,
    SCORE,
    CORRECT,
    FINISH_REASON,
    RESPONSE_TOKENS,
    RESPONSE_CHARS,
    META,
    PROMPT_HASH,
    TASK_VERSION,
    N_SHOT,
    MAX_GEN_TOKS,
    SOURCE,
];
