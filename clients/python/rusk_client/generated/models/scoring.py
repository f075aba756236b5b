from enum import StrEnum


class Scoring(StrEnum):
    ACCURACY = "accuracy"
    F1 = "f1"
    NEG_MEAN_ABSOLUTE_ERROR = "neg_mean_absolute_error"
    NEG_MEAN_SQUARED_ERROR = "neg_mean_squared_error"
    R2 = "r2"
    ROC_AUC = "roc_auc"

    def __str__(self) -> str:
        return str(self.value)
