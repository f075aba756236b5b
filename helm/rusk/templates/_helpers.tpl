{{/*
Expand the name of the chart.
*/}}
{{- define "rusk.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A default fully qualified app name, truncated at 63 characters (DNS label). If the release
name contains the chart name it is used as the full name.
*/}}
{{- define "rusk.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "rusk.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "rusk.labels" -}}
helm.sh/chart: {{ include "rusk.chart" . }}
{{ include "rusk.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: rusk
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels.
*/}}
{{- define "rusk.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rusk.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one component: (dict "ctx" $ "component" "api"), plus "pool" for a worker pool.
*/}}
{{- define "rusk.componentLabels" -}}
{{ include "rusk.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- with .pool }}
rusk/pool: {{ . }}
{{- end }}
{{- end }}

{{- define "rusk.componentSelectorLabels" -}}
{{ include "rusk.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- with .pool }}
rusk/pool: {{ . }}
{{- end }}
{{- end }}

{{/*
commonAnnotations as a metadata.annotations block (nothing when empty).
*/}}
{{- define "rusk.annotations" -}}
{{- with .Values.commonAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The service account's name.
*/}}
{{- define "rusk.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rusk.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The Secret holding DATABASE_URL and the other secret environment variables.
*/}}
{{- define "rusk.secretName" -}}
{{- default (include "rusk.fullname" .) .Values.existingSecret }}
{{- end }}

{{/*
The full name plus a suffix, within 63 characters: the full name is cut, never the suffix,
so names of one release stay distinct. (dict "ctx" $ "suffix" "api")
*/}}
{{- define "rusk.suffixedName" -}}
{{- $room := int (sub 62 (len .suffix)) }}
{{- printf "%s-%s" (include "rusk.fullname" .ctx | trunc $room | trimSuffix "-") .suffix }}
{{- end }}

{{- define "rusk.apiName" -}}
{{- include "rusk.suffixedName" (dict "ctx" . "suffix" "api") }}
{{- end }}

{{- define "rusk.workerName" -}}
{{- include "rusk.suffixedName" (dict "ctx" .ctx "suffix" (printf "worker-%s" .pool)) }}
{{- end }}

{{- define "rusk.gpuWorkerName" -}}
{{- include "rusk.suffixedName" (dict "ctx" . "suffix" "gpu-worker") }}
{{- end }}

{{- define "rusk.workerMetricsName" -}}
{{- include "rusk.suffixedName" (dict "ctx" . "suffix" "worker-metrics") }}
{{- end }}

{{- define "rusk.schedulerName" -}}
{{- include "rusk.suffixedName" (dict "ctx" . "suffix" "scheduler") }}
{{- end }}

{{- define "rusk.executorName" -}}
{{- include "rusk.suffixedName" (dict "ctx" . "suffix" "executor") }}
{{- end }}

{{/*
RUSK_BALLISTA_URL: the scheduler's Service, df://<service>.<namespace>.svc:<port>.
*/}}
{{- define "rusk.ballistaUrl" -}}
{{- printf "df://%s.%s.svc:%d" (include "rusk.schedulerName" .) .Release.Namespace (int .Values.ballista.scheduler.port) }}
{{- end }}

{{/*
The image reference: (dict "ctx" $ "image" <a pool's image block> "gpu" <bool>). A pool's
own repository/tag/digest wins; GPU pools take image.gpuTag when set (the digest names the
plain image, so it is not used for them).
*/}}
{{- define "rusk.image" -}}
{{- $img := .ctx.Values.image }}
{{- $own := .image | default dict }}
{{- $tag := $img.tag | default .ctx.Chart.AppVersion }}
{{- $gpuImage := and .gpu $img.gpuTag }}
{{- if $gpuImage }}
{{- $tag = $img.gpuTag }}
{{- end }}
{{- if or $own.repository $own.tag $own.digest }}
{{- $repository := $own.repository | default $img.repository }}
{{- if $own.digest }}
{{- printf "%s@%s" $repository $own.digest }}
{{- else }}
{{- printf "%s:%s" $repository (toString ($own.tag | default $tag)) }}
{{- end }}
{{- else if and $img.digest (not $gpuImage) }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository (toString $tag) }}
{{- end }}
{{- end }}

{{/*
The public URL: config.publicUrl, else the first ingress host.
*/}}
{{- define "rusk.publicUrl" -}}
{{- if .Values.config.publicUrl }}
{{- .Values.config.publicUrl }}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts }}
{{- $host := (first .Values.ingress.hosts).host }}
{{- printf "%s://%s" (ternary "https" "http" (gt (len .Values.ingress.tls) 0)) $host }}
{{- end }}
{{- end }}

{{/*
terminationGracePeriodSeconds: the shutdown grace plus time to hand jobs back.
*/}}
{{- define "rusk.terminationGrace" -}}
{{- add (int .Values.config.shutdownGrace) (int .Values.terminationGraceExtraSeconds) }}
{{- end }}

{{/*
A probe's timing fields, without the chart's `enabled` switch.
*/}}
{{- define "rusk.probeTimings" -}}
{{- toYaml (omit . "enabled") }}
{{- end }}

{{/*
Pod-level settings every Rusk pod shares.
*/}}
{{- define "rusk.podCommon" -}}
serviceAccountName: {{ include "rusk.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automount }}
terminationGracePeriodSeconds: {{ include "rusk.terminationGrace" . }}
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Environment from the ConfigMap and the Secret.
*/}}
{{- define "rusk.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "rusk.fullname" . }}
  - secretRef:
      name: {{ include "rusk.secretName" . }}
{{- end }}

{{/*
Volume mounts of a Rusk container: the data directory, the data root and /tmp (the root
file system is read-only).
*/}}
{{- define "rusk.volumeMounts" -}}
volumeMounts:
  - name: data
    mountPath: {{ .Values.persistence.mountPath }}
  - name: data-root
    mountPath: {{ .Values.dataRoot.mountPath }}
    readOnly: {{ .Values.dataRoot.readOnly }}
  - name: tmp
    mountPath: /tmp
{{- end }}

{{- define "rusk.volumes" -}}
volumes:
  - name: data
    {{- if .Values.persistence.enabled }}
    persistentVolumeClaim:
      claimName: {{ default (include "rusk.suffixedName" (dict "ctx" . "suffix" "data")) .Values.persistence.existingClaim }}
    {{- else }}
    emptyDir:
      sizeLimit: {{ .Values.persistence.emptyDirSizeLimit }}
    {{- end }}
  {{- include "rusk.dataRootVolume" . | nindent 2 }}
  - name: tmp
    emptyDir: {}
{{- end }}

{{/*
The data root's volume, the same in every pod that reads local sources.
*/}}
{{- define "rusk.dataRootVolume" -}}
- name: data-root
  {{- if .Values.dataRoot.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.dataRoot.existingClaim }}
    readOnly: {{ .Values.dataRoot.readOnly }}
  {{- else }}
  emptyDir: {}
  {{- end }}
{{- end }}

{{/*
Volumes of the Ballista pods: like rusk.volumes, but the data directory (shuffle and spill
files) is always a pod's own emptyDir, never the shared persistence volume.
(dict "ctx" $ "sizeLimit" <quantity or empty>)
*/}}
{{- define "rusk.ballistaVolumes" -}}
volumes:
  - name: data
    emptyDir:
      {{- with .sizeLimit }}
      sizeLimit: {{ . }}
      {{- else }} {}
      {{- end }}
  {{- include "rusk.dataRootVolume" .ctx | nindent 2 }}
  - name: tmp
    emptyDir: {}
{{- end }}

{{/*
Restarts pods when their settings change.
*/}}
{{- define "rusk.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}

{{/*
Prometheus scrape annotations for the metrics listener.
*/}}
{{- define "rusk.scrapeAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.metrics.port | int | quote }}
prometheus.io/path: /metrics
{{- end }}

{{/*
Refuse values that would deploy pods unable to share jobs or results.
*/}}
{{- define "rusk.validateValues" -}}
{{- if and (not .Values.existingSecret) (not .Values.database.url) }}
{{- fail "rusk: set database.url (postgres://…) or existingSecret (a Secret with DATABASE_URL): the API and workers share jobs through Postgres" }}
{{- end }}
{{- if and .Values.database.url (not .Values.existingSecret) (not (regexMatch "^postgres(ql)?://" .Values.database.url)) }}
{{- fail "rusk: database.url must be a postgres:// URL; SQLite cannot be shared between pods" }}
{{- end }}
{{- if and (not .Values.config.resultsUrl) (not .Values.persistence.enabled) }}
{{- fail "rusk: set config.resultsUrl (e.g. s3://bucket/rusk) or persistence.enabled (a ReadWriteMany volume): results written by workers must be readable by the API" }}
{{- end }}
{{- $seen := dict }}
{{- range .Values.workers }}
{{- if hasKey $seen .name }}
{{- fail (printf "rusk: two worker pools are named %q" .name) }}
{{- end }}
{{- $_ := set $seen .name true }}
{{- end }}
{{- if and .Values.gpuWorkers.enabled (hasKey $seen "gpu-worker") }}
{{- fail "rusk: gpuWorkers.enabled renders the pool gpu-worker: rename the worker pool named gpu-worker (their pods would share labels)" }}
{{- end }}
{{- $sm := .Values.metrics.serviceMonitor }}
{{- if and $sm.enabled (not .Values.metrics.apiListener) (not .Values.existingSecret) (not .Values.secret.metricsToken) }}
{{- fail "rusk: metrics.apiListener is off, so the ServiceMonitor scrapes the API port, which needs RUSK_METRICS_TOKEN: set secret.metricsToken" }}
{{- end }}
{{- $b := .Values.ballista }}
{{- if and (eq $b.defaultEngine "ballista") (not $b.enabled) }}
{{- fail "rusk: ballista.defaultEngine is ballista but ballista.enabled is false: without a Ballista cluster every job that names no engine would be refused" }}
{{- end }}
{{- if and $b.enabled (ge (int $b.executors.heartbeatSeconds) (int $b.scheduler.executorTimeoutSeconds)) }}
{{- fail "rusk: ballista.executors.heartbeatSeconds must be below ballista.scheduler.executorTimeoutSeconds, or the Ballista scheduler counts live executors as lost" }}
{{- end }}
{{- if and $b.enabled (eq (int $b.executors.flightPort) (int $b.executors.grpcPort)) }}
{{- fail "rusk: ballista.executors.flightPort and grpcPort must differ (Arrow Flight and the task service are two listeners)" }}
{{- end }}
{{- end }}
