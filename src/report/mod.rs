//! The *report* stage: findings, statistics and configuration → human text or JSON.
