"""Every file location the pipeline reads or writes, in one place.

Paths are relative to the repository root. DVC runs each stage from the root (also in
temporary experiment workspaces), so relative paths follow the workspace being run.
"""

from pathlib import Path

PARAMS = Path("params.yaml")
CONFIGS = Path("configs")

# ingest's copy of the source, and the rows validate reads: the same bytes, or with the
# profile's entity features joined as of each row's time (the features stage).
SOURCE_DATA = Path("data/raw/source.csv")
RAW_DATA = Path("data/raw/dataset.csv")
CLEAN_DATA = Path("data/interim/clean.parquet")
TRAIN_DATA = Path("data/processed/train.parquet")
TEST_DATA = Path("data/processed/test.parquet")

VALIDATION_REPORT_JSON = Path("reports/validation/report.json")
VALIDATION_REPORT_MD = Path("reports/validation/report.md")

MODEL = Path("models/model.joblib")
TRAINING_STATS = Path("models/training_stats.json")

# Package stage (ONNX model, exported bento) and the in-repo BentoML store (gitignored).
ONNX_MODEL = Path("models/model.onnx")
BENTO_ARCHIVE = Path("models/tabml_service.bento")
BENTOML_HOME = Path("bentoml_home")
SRC = Path("src")

METRICS = Path("reports/metrics.json")
SLICES = Path("reports/slices.json")
MODEL_CARD = Path("reports/model_card.md")
PLOTS_DIR = Path("reports/plots")
CONFUSION_PLOT = PLOTS_DIR / "confusion.json"
ROC_PLOT = PLOTS_DIR / "roc.json"
PR_PLOT = PLOTS_DIR / "precision_recall.json"
IMPORTANCE_PLOT = PLOTS_DIR / "importance.json"
# Regression plots (an empty list for classification, and the classification plots are empty
# lists for regression: the evaluate stage declares both in dvc.yaml).
PREDICTED_ACTUAL_PLOT = PLOTS_DIR / "predicted_actual.json"
RESIDUALS_PLOT = PLOTS_DIR / "residuals.json"
RESIDUAL_HISTOGRAM_PLOT = PLOTS_DIR / "residual_histogram.json"
PARTIAL_DEPENDENCE_PLOT = PLOTS_DIR / "partial_dependence.json"

# Production loop: request log (written by the service, read by drift) and drift reports.
REQUEST_LOG_DIR = Path("logs/requests")
DRIFT_DIR = Path("reports/drift")
DRIFT_METRICS = DRIFT_DIR / "metrics.json"
DRIFT_REPORT = DRIFT_DIR / "report.md"
DRIFT_PSI_PLOT = DRIFT_DIR / "psi.json"
DRIFT_BINS_PLOT = DRIFT_DIR / "distributions.json"

# Tune stage: the chosen parameters (read by train when train.use_tuned), the resumable study
# (an Optuna journal in a folder that is a persisted DVC output) and its summary and plots.
TUNED_PARAMS = Path("models/tuned_params.yaml")
TUNE_STUDY_DIR = Path("models/tune_study")
TUNE_STUDY = TUNE_STUDY_DIR / "journal.log"
TUNE_DIR = Path("reports/tune")
TUNE_SUMMARY = TUNE_DIR / "summary.json"
TUNE_HISTORY_PLOT = TUNE_DIR / "history.json"
TUNE_IMPORTANCE_PLOT = TUNE_DIR / "importance.json"
TUNE_FAMILIES_PLOT = TUNE_DIR / "families.json"

# Monitoring: labels that arrive later (feedback log) and the live-metrics report.
FEEDBACK_LOG_DIR = Path("logs/feedback")
MONITOR_DIR = Path("reports/monitor")
