//! Benchmark families: which benchmark a task belongs to.
//!
//! lm-evaluation-harness names tasks, not benchmarks, and the same benchmark
//! appears under several task names (`bbh_cot_fewshot_navigate`,
//! `leaderboard_bbh_navigate`). Taxonomy rules and reports work per
//! benchmark family, so readers map each task to its family here. Unknown
//! tasks fall back to the group the results file puts them in, then to the
//! task name itself.

/// (task-name prefix, family). Longest prefix wins; a prefix matches the
/// whole task name or a prefix followed by `_`.
const FAMILIES: &[(&str, &str)] = &[
    ("leaderboard_bbh", "bbh"),
    ("bbh", "bbh"),
    ("leaderboard_mmlu_pro", "mmlu_pro"),
    ("mmlu_pro_plus", "mmlu_pro_plus"),
    ("mmlu_pro", "mmlu_pro"),
    ("mmlu", "mmlu"),
    ("gsm8k", "gsm8k"),
    ("hendrycks_math", "math"),
    ("minerva_math", "math"),
    ("minerva_math500", "math"),
    ("leaderboard_math", "math"),
    ("math_500", "math"),
    ("arc_easy", "arc"),
    ("arc_challenge", "arc"),
    ("hellaswag", "hellaswag"),
    ("winogrande", "winogrande"),
    ("leaderboard_musr", "musr"),
    ("musr", "musr"),
    ("leaderboard_gpqa", "gpqa"),
    ("gpqa", "gpqa"),
    ("humaneval", "humaneval"),
    ("mbpp", "mbpp"),
    ("leaderboard_ifeval", "ifeval"),
    ("ifeval", "ifeval"),
    ("aime", "aime"),
    ("aime24", "aime"),
    ("aime25", "aime"),
    ("aime26", "aime"),
];

/// The family of `task`, or `None` when no known prefix matches.
pub fn known_family(task: &str) -> Option<&'static str> {
    FAMILIES
        .iter()
        .filter(|(prefix, _)| {
            task == *prefix || (task.starts_with(prefix) && task.as_bytes().get(prefix.len()) == Some(&b'_'))
        })
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, family)| *family)
}

/// The family of `task`: a known family, else the group that contains it,
/// else the task itself.
pub fn family(task: &str, group: Option<&str>) -> String {
    known_family(task)
        .map(str::to_string)
        .or_else(|| group.map(str::to_string))
        .unwrap_or_else(|| task.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_variants_map_to_their_family() {
        assert_eq!(known_family("bbh_cot_fewshot_date_understanding"), Some("bbh"));
        assert_eq!(known_family("leaderboard_bbh_navigate"), Some("bbh"));
        assert_eq!(known_family("mmlu_pro_plus_chemistry"), Some("mmlu_pro_plus"));
        assert_eq!(known_family("leaderboard_mmlu_pro"), Some("mmlu_pro"));
        assert_eq!(known_family("mmlu_abstract_algebra"), Some("mmlu"));
        assert_eq!(known_family("gsm8k"), Some("gsm8k"));
        assert_eq!(known_family("gsm8k_cot_self_consistency"), Some("gsm8k"));
        assert_eq!(known_family("minerva_math_algebra"), Some("math"));
        assert_eq!(known_family("arc_challenge"), Some("arc"));
        assert_eq!(known_family("minerva_math500"), Some("math"));
        assert_eq!(known_family("leaderboard_math_num_theory_hard"), Some("math"));
        assert_eq!(known_family("aime24"), Some("aime"));
        assert_eq!(known_family("aime25"), Some("aime"));
        assert_eq!(known_family("aime_2024"), Some("aime"));
        assert_eq!(known_family("gpqa_diamond_cot_n_shot"), Some("gpqa"));
        assert_eq!(known_family("leaderboard_gpqa_main"), Some("gpqa"));
        assert_eq!(known_family("leaderboard_musr_team_allocation"), Some("musr"));
        assert_eq!(known_family("leaderboard_ifeval"), Some("ifeval"));
        assert_eq!(known_family("humaneval_plus"), Some("humaneval"));
        assert_eq!(known_family("mbpp_plus_instruct"), Some("mbpp"));
        assert_eq!(known_family("mmlu_flan_cot_fewshot_virology"), Some("mmlu"));
        assert_eq!(known_family("mmlu_pro_computer_science"), Some("mmlu_pro"));
        assert_eq!(known_family("bbh_zeroshot_word_sorting"), Some("bbh"));
        assert_eq!(known_family("hellaswag"), Some("hellaswag"));
    }

    #[test]
    fn prefix_must_end_at_a_word_boundary() {
        assert_eq!(known_family("bbhx"), None);
        assert_eq!(known_family("gsm8kish"), None);
        assert_eq!(family("my_task", Some("my_group")), "my_group");
        assert_eq!(family("my_task", None), "my_task");
    }
}
