//! The Decision 766/QĐ-TTg service quality index (100 points in five groups), computed from summed
//! counters. Below the group totals the decision does not publish every weight, so the points of each
//! indicator are configuration (`MOTCUA_REPORTING_INDEX_POINTS`); indicators motcua has no data for are
//! reported as unavailable and left out of the measured maximum.

use std::collections::BTreeMap;

use super::metrics::{Totals, metric, percent};

/// The five groups: number, name, points.
pub const GROUPS: [(&str, &str, f64); 5] = [
    ("1", "Công khai, minh bạch", 18.0),
    ("2", "Tiến độ, kết quả giải quyết", 20.0),
    ("3", "Dịch vụ trực tuyến", 22.0),
    ("4", "Số hóa hồ sơ", 22.0),
    ("5", "Mức độ hài lòng", 18.0),
];

/// Every indicator: code, name, default points.
const INDICATORS: [(&str, &str, f64); 13] = [
    ("1.1", "Công bố, công khai thủ tục hành chính đúng hạn", 6.0),
    ("1.2", "Công khai đầy đủ thông tin thủ tục hành chính", 6.0),
    ("1.3", "Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia", 6.0),
    ("2.1", "Tỷ lệ hồ sơ giải quyết đúng hạn", 12.0),
    ("2.2", "Thời gian giải quyết trung bình", 8.0),
    ("3.1", "Tỷ lệ thủ tục cung cấp dịch vụ công trực tuyến", 6.0),
    ("3.2", "Tỷ lệ hồ sơ nộp trực tuyến", 8.0),
    ("3.3", "Tỷ lệ thanh toán trực tuyến", 8.0),
    ("4.1", "Tỷ lệ kết quả giải quyết điện tử", 6.0),
    ("4.2", "Tỷ lệ hồ sơ được số hóa", 8.0),
    ("4.3", "Tỷ lệ tái sử dụng dữ liệu đã số hóa", 8.0),
    ("5.1", "Tiếp nhận, xử lý phản ánh, kiến nghị", 6.0),
    ("5.4", "Mức độ hài lòng trong giải quyết thủ tục hành chính", 12.0),
];

/// Points per indicator code.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights(BTreeMap<String, f64>);

/// Why a weights setting was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightsError {
    #[error("{0:?} is not code=points")]
    Syntax(String),
    #[error("no indicator {0}")]
    UnknownIndicator(String),
    #[error("group {group}'s indicators add up to {sum} points, not {total}")]
    GroupTotal { group: String, sum: f64, total: f64 },
}

impl Default for Weights {
    fn default() -> Self {
        Self(INDICATORS.iter().map(|(code, _, points)| ((*code).to_owned(), *points)).collect())
    }
}

impl Weights {
    /// The defaults with `setting`'s overrides (`2.1=14,2.2=6`); each group must still add up to its
    /// total.
    pub fn parse(setting: &str) -> Result<Self, WeightsError> {
        let mut weights = Self::default();
        for pair in setting.split(',').map(str::trim).filter(|pair| !pair.is_empty()) {
            let (code, points) = pair.split_once('=').ok_or_else(|| WeightsError::Syntax(pair.to_owned()))?;
            let points: f64 = points.trim().parse().map_err(|_| WeightsError::Syntax(pair.to_owned()))?;
            if !points.is_finite() || points < 0.0 {
                return Err(WeightsError::Syntax(pair.to_owned()));
            }
            let slot =
                weights.0.get_mut(code.trim()).ok_or_else(|| WeightsError::UnknownIndicator(code.trim().to_owned()))?;
            *slot = points;
        }
        for (group, _, total) in GROUPS {
            let sum: f64 = weights.0.iter().filter(|(code, _)| group_of(code) == group).map(|(_, points)| points).sum();
            if (sum - total).abs() > 1e-9 {
                return Err(WeightsError::GroupTotal { group: group.to_owned(), sum, total });
            }
        }
        Ok(weights)
    }

    fn points(&self, code: &str) -> f64 {
        self.0.get(code).copied().unwrap_or(0.0)
    }
}

fn group_of(code: &str) -> &str {
    code.split('.').next().unwrap_or(code)
}

/// One measured indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub code: &'static str,
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
    pub numerator: f64,
    pub denominator: f64,
    pub score: f64,
    pub max_points: f64,
    pub formula: &'static str,
    pub available: bool,
}

/// One group of indicators.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub code: &'static str,
    pub name: &'static str,
    pub score: f64,
    pub max_points: f64,
    pub indicators: Vec<Indicator>,
}

/// The whole index.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceIndex {
    pub score: f64,
    pub max_points: f64,
    pub measured_max_points: f64,
    pub groups: Vec<Group>,
}

/// A rate indicator scoring its points in proportion to `value / full_at`, capped at full points.
fn rate(
    code: &'static str,
    numerator: i64,
    denominator: i64,
    full_at: f64,
    formula: &'static str,
    weights: &Weights,
) -> Indicator {
    let value = percent(numerator, denominator);
    let max_points = weights.points(code);
    Indicator {
        code,
        name: name_of(code),
        value,
        unit: "%",
        numerator: numerator as f64,
        denominator: denominator as f64,
        score: max_points * (value / full_at).min(1.0),
        max_points,
        formula,
        available: true,
    }
}

fn unavailable(code: &'static str, formula: &'static str, weights: &Weights) -> Indicator {
    Indicator {
        code,
        name: name_of(code),
        value: 0.0,
        unit: "",
        numerator: 0.0,
        denominator: 0.0,
        score: 0.0,
        max_points: weights.points(code),
        formula,
        available: false,
    }
}

fn name_of(code: &str) -> &'static str {
    INDICATORS.iter().find(|(known, _, _)| *known == code).map_or("", |(_, name, _)| name)
}

/// Computes the index from `totals` with `weights`.
pub fn compute(totals: &Totals, weights: &Weights) -> ServiceIndex {
    let resolved = totals.resolved();
    let received = totals.get(metric::RECEIVED);
    let rates = totals.rates();
    let processing_count = totals.get(metric::PROCESSING_COUNT);
    let mean_days = if processing_count > 0 {
        totals.get(metric::PROCESSING_SECONDS) as f64 / processing_count as f64 / 86_400.0
    } else {
        0.0
    };
    let mean_processing = Indicator {
        code: "2.2",
        name: name_of("2.2"),
        value: mean_days,
        unit: "ngày",
        numerator: totals.get(metric::PROCESSING_SECONDS) as f64 / 86_400.0,
        denominator: processing_count as f64,
        score: 0.0,
        max_points: weights.points("2.2"),
        formula: "tổng thời gian giải quyết (trừ thời gian chờ bổ sung) / số hồ sơ kết thúc xử lý, theo ngày; chưa chấm điểm: cần thời hạn luật định của từng thủ tục",
        available: false,
    };
    let satisfaction = Indicator {
        code: "5.4",
        name: name_of("5.4"),
        value: rates.satisfaction_percent,
        unit: "%",
        numerator: rates.satisfaction_percent,
        denominator: 100.0,
        score: weights.points("5.4") * (rates.satisfaction_percent / 90.0).min(1.0),
        max_points: weights.points("5.4"),
        formula: "100% − (tỷ lệ hồ sơ quá hạn + tỷ lệ hồ sơ có phản ánh hoặc không hài lòng); quá hạn = (giải quyết quá hạn + đang quá hạn) / (đã giải quyết + đang giải quyết); đủ điểm khi ≥ 90%",
        available: true,
    };
    let indicators = vec![
        unavailable("1.1", "cần dữ liệu công bố thủ tục (ngoài motcua)", weights),
        unavailable("1.2", "cần dữ liệu công khai thủ tục (ngoài motcua)", weights),
        unavailable("1.3", "cần dữ liệu đồng bộ với Cổng Dịch vụ công quốc gia", weights),
        rate(
            "2.1",
            totals.get(metric::RESOLVED_ON_TIME),
            resolved,
            100.0,
            "hồ sơ giải quyết sớm và đúng hạn / hồ sơ đã giải quyết × 100% (không tính thời gian chờ bổ sung; yêu cầu bổ sung lần hai là quá hạn); điểm theo tỷ lệ",
            weights,
        ),
        mean_processing,
        unavailable("3.1", "cần danh mục dịch vụ công trực tuyến (ngoài luồng sự kiện)", weights),
        rate(
            "3.2",
            totals.get(metric::RECEIVED_ONLINE),
            received,
            50.0,
            "hồ sơ nộp trực tuyến / hồ sơ tiếp nhận × 100%; đủ điểm khi ≥ 50%",
            weights,
        ),
        rate(
            "3.3",
            totals.get(metric::FEE_RECEIPTS_PAID_ONLINE),
            totals.get(metric::FEE_RECEIPTS_ISSUED),
            80.0,
            "biên lai thanh toán qua Cổng Dịch vụ công / biên lai thu phí × 100%; đủ điểm khi ≥ 80%",
            weights,
        ),
        rate(
            "4.1",
            totals.get(metric::ELECTRONIC_RESULTS),
            resolved,
            100.0,
            "kết quả điện tử / hồ sơ đã giải quyết × 100%; điểm theo tỷ lệ",
            weights,
        ),
        rate(
            "4.2",
            totals.get(metric::DIGITIZED_DOSSIERS),
            received,
            80.0,
            "hồ sơ có mọi thành phần được số hóa / hồ sơ tiếp nhận × 100%; đủ điểm khi ≥ 80%",
            weights,
        ),
        rate(
            "4.3",
            totals.get(metric::REUSING_DOSSIERS),
            received,
            80.0,
            "hồ sơ sử dụng lại dữ liệu trong kho / hồ sơ tiếp nhận × 100%; đủ điểm khi ≥ 80%",
            weights,
        ),
        unavailable("5.1", "cần dữ liệu xử lý phản ánh, kiến nghị (ngoài motcua)", weights),
        satisfaction,
    ];
    let groups: Vec<Group> = GROUPS
        .iter()
        .map(|(code, name, total)| {
            let members: Vec<Indicator> =
                indicators.iter().filter(|indicator| group_of(indicator.code) == *code).cloned().collect();
            Group {
                code,
                name,
                score: members.iter().map(|indicator| indicator.score).sum(),
                max_points: *total,
                indicators: members,
            }
        })
        .collect();
    let measured_max_points =
        indicators.iter().filter(|indicator| indicator.available).map(|indicator| indicator.max_points).sum();
    ServiceIndex { score: groups.iter().map(|group| group.score).sum(), max_points: 100.0, measured_max_points, groups }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_weights_fill_each_group_to_its_total() {
        assert_eq!(Weights::parse(""), Ok(Weights::default()));
        assert!(Weights::parse("2.1=14,2.2=6").is_ok());
        assert!(matches!(Weights::parse("2.1=14"), Err(WeightsError::GroupTotal { .. })));
        assert!(matches!(Weights::parse("9.9=1"), Err(WeightsError::UnknownIndicator(_))));
        assert!(matches!(Weights::parse("2.1"), Err(WeightsError::Syntax(_))));
    }

    #[test]
    fn rates_score_in_proportion_up_to_their_threshold() {
        let mut totals = Totals::default();
        totals.flows.insert(metric::RECEIVED.into(), 100);
        totals.flows.insert(metric::RECEIVED_ONLINE.into(), 25);
        totals.flows.insert(metric::DIGITIZED_DOSSIERS.into(), 90);
        totals.flows.insert(metric::RESOLVED_ON_TIME.into(), 45);
        totals.flows.insert(metric::RESOLVED_LATE.into(), 5);
        let index = compute(&totals, &Weights::default());
        let find = |code: &str| {
            index
                .groups
                .iter()
                .flat_map(|group| &group.indicators)
                .find(|indicator| indicator.code == code)
                .cloned()
                .expect("an indicator")
        };
        assert_eq!(find("3.2").score, 4.0); // 25 % of a full-at-50 % rate worth 8
        assert_eq!(find("4.2").score, 8.0); // 90 % is past 80 %
        assert!((find("2.1").score - 12.0 * 0.9).abs() < 1e-9);
        assert!(!find("1.3").available);
        assert_eq!(index.measured_max_points, 12.0 + 8.0 + 8.0 + 6.0 + 8.0 + 8.0 + 12.0);
        let sum: f64 = index.groups.iter().map(|group| group.score).sum();
        assert!((index.score - sum).abs() < 1e-9);
    }
}
