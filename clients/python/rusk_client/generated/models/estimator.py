from enum import StrEnum


class Estimator(StrEnum):
    GRADIENT_BOOSTING_CLASSIFIER = "gradient_boosting_classifier"
    GRADIENT_BOOSTING_REGRESSOR = "gradient_boosting_regressor"
    KMEANS = "kmeans"
    LINEAR_REGRESSION = "linear_regression"
    LOGISTIC_REGRESSION = "logistic_regression"
    RANDOM_FOREST_CLASSIFIER = "random_forest_classifier"
    RANDOM_FOREST_REGRESSOR = "random_forest_regressor"

    def __str__(self) -> str:
        return str(self.value)
