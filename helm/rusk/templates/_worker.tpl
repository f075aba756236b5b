{{/*
A worker pool with workerDefaults filled in: (dict "ctx" $ "pool" <an entry of workers>).
Maps merge deeply and the pool wins, also with false, 0 or null (Sprig's merge functions
treat those as unset); lists are replaced.
*/}}
{{- define "rusk.workerPool" -}}
{{- $p := include "rusk.merge" (dict "base" .ctx.Values.workerDefaults "over" .pool) | fromYaml }}
{{- if not (hasKey .pool "replicas") }}
{{- $_ := set $p "replicas" 1 }}
{{- end }}
{{- $resources := $p.resources | default dict }}
{{- if gt (int ($p.gpu | default 0)) 0 }}
{{- $limits := $resources.limits | default dict }}
{{- $_ := set $limits "nvidia.com/gpu" (int $p.gpu) }}
{{- $_ := set $resources "limits" $limits }}
{{- end }}
{{- $_ := set $p "resources" $resources }}
{{- toYaml $p }}
{{- end }}

{{/*
Deep merge of two maps: (dict "base" <map> "over" <map>); "over" wins.
*/}}
{{- define "rusk.merge" -}}
{{- $out := deepCopy (.base | default dict) }}
{{- range $key, $value := .over }}
{{- if and (kindIs "map" $value) (kindIs "map" (index $out $key)) }}
{{- $_ := set $out $key (include "rusk.merge" (dict "base" (index $out $key) "over" $value) | fromYaml) }}
{{- else }}
{{- $_ := set $out $key $value }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/*
gpuWorkers as a pool (named gpu-worker) with workerDefaults filled in, as rusk.workerPool
does for an entry of workers; gpusPerPod is its `gpu`.
*/}}
{{- define "rusk.gpuWorkerPool" -}}
{{- $g := .Values.gpuWorkers }}
{{- $pool := dict "name" "gpu-worker" "replicas" $g.replicas "gpu" $g.gpusPerPod "resources" $g.resources "nodeSelector" $g.nodeSelector "tolerations" $g.tolerations "gpus" $g.gpus "gpuMemoryLimit" $g.gpuMemoryLimit "runtimeClassName" $g.runtimeClassName }}
{{- include "rusk.workerPool" (dict "ctx" . "pool" $pool) }}
{{- end }}

{{/*
A worker pool's Deployment: (dict "ctx" $ "pool" <a rusk.workerPool> "name" <its name>).
The keys only gpuWorkers sets (gpus, gpuMemoryLimit, runtimeClassName) add RUSK_GPUS,
RUSK_GPU_MEMORY_LIMIT and the pod's runtimeClassName.
*/}}
{{- define "rusk.workerDeployment" -}}
{{- $ctx := .ctx }}
{{- $p := .pool }}
{{- $name := .name }}
{{- $component := dict "ctx" $ctx "component" "worker" "pool" $p.name }}
{{- $gpu := gt (int ($p.gpu | default 0)) 0 -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "rusk.componentLabels" $component | nindent 4 }}
  {{- with (include "rusk.annotations" $ctx) }}{{ . | nindent 2 }}{{- end }}
spec:
  replicas: {{ $p.replicas | int }}
  {{- with $p.strategy }}
  strategy:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "rusk.componentSelectorLabels" $component | nindent 6 }}
  template:
    metadata:
      annotations:
        {{- include "rusk.checksums" $ctx | nindent 8 }}
        {{- if $ctx.Values.metrics.podAnnotations }}
        {{- include "rusk.scrapeAnnotations" $ctx | nindent 8 }}
        {{- end }}
        {{- with $p.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "rusk.componentLabels" $component | nindent 8 }}
        {{- with $p.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- include "rusk.podCommon" $ctx | nindent 6 }}
      {{- with $p.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $p.runtimeClassName }}
      runtimeClassName: {{ . }}
      {{- end }}
      containers:
        - name: worker
          image: {{ include "rusk.image" (dict "ctx" $ctx "image" $p.image "gpu" $gpu) | quote }}
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          command:
            {{- toYaml $ctx.Values.image.command | nindent 12 }}
          args:
            - worker
          {{- with $ctx.Values.containerSecurityContext }}
          securityContext:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- include "rusk.envFrom" $ctx | nindent 10 }}
          env:
            # A worker serves no API; this address is its only port (/metrics, /healthz, /readyz).
            - name: RUSK_METRICS_LISTEN
              value: "0.0.0.0:{{ $ctx.Values.metrics.port | int }}"
            {{- if not (kindIs "invalid" $p.slots) }}
            - name: RUSK_SLOTS
              value: {{ $p.slots | int | quote }}
            {{- end }}
            {{- with $p.memoryLimit }}
            - name: RUSK_MEMORY_LIMIT
              value: {{ . | quote }}
            {{- end }}
            {{- if and (not (kindIs "invalid" $p.gpus)) (ne (toString $p.gpus) "") }}
            - name: RUSK_GPUS
              value: {{ $p.gpus | toString | quote }}
            {{- end }}
            {{- with $p.gpuMemoryLimit }}
            - name: RUSK_GPU_MEMORY_LIMIT
              value: {{ . | quote }}
            {{- end }}
            {{- if not (include "rusk.publicUrl" $ctx) }}
            # Links in webhooks point at the API; without a public URL, at its Service.
            - name: RUSK_PUBLIC_URL
              value: "http://{{ include "rusk.apiName" $ctx }}.{{ $ctx.Release.Namespace }}.svc:{{ $ctx.Values.service.port | int }}"
            {{- end }}
            {{- with $ctx.Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- with $p.env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: metrics
              containerPort: {{ $ctx.Values.metrics.port | int }}
              protocol: TCP
          {{- if $p.livenessProbe.enabled }}
          # /healthz does no I/O, so a worker busy with jobs still answers it.
          livenessProbe:
            httpGet:
              path: /healthz
              port: metrics
            {{- include "rusk.probeTimings" $p.livenessProbe | nindent 12 }}
          {{- end }}
          {{- if $p.readinessProbe.enabled }}
          # /readyz writes to the job store: a worker that cannot reach it is not ready.
          readinessProbe:
            httpGet:
              path: /readyz
              port: metrics
            {{- include "rusk.probeTimings" $p.readinessProbe | nindent 12 }}
          {{- end }}
          {{- with $p.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- include "rusk.volumeMounts" $ctx | nindent 10 }}
      {{- include "rusk.volumes" $ctx | nindent 6 }}
      {{- with $p.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $p.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $p.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $p.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/*
A worker pool's PodDisruptionBudget: (dict "ctx" $ "pool" <a rusk.workerPool> "name" <its
Deployment's name>). Nothing when the pool's pdb.create is off.
*/}}
{{- define "rusk.workerPdb" -}}
{{- $p := .pool }}
{{- if $p.pdb.create }}
{{- $component := dict "ctx" .ctx "component" "worker" "pool" $p.name -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "rusk.componentLabels" $component | nindent 4 }}
  {{- with (include "rusk.annotations" .ctx) }}{{ . | nindent 2 }}{{- end }}
spec:
  {{- if not (eq (toString $p.pdb.minAvailable) "") }}
  minAvailable: {{ $p.pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $p.pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "rusk.componentSelectorLabels" $component | nindent 6 }}
{{- end }}
{{- end }}
