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
