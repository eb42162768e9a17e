{{/* The chart's name, for the app.kubernetes.io/name label. */}}
{{- define "meshward.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's base name for its objects: the release name, with the chart's name after it unless
the release name already holds it (release "meshward" gives "meshward-collector", release "mw"
"mw-meshward-collector"). Kubernetes names stop at 63 characters.
*/}}
{{- define "meshward.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "meshward.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "meshward.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "meshward.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "meshward.collector.name" -}}
{{- printf "%s-collector" (include "meshward.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "meshward.clickhouse.name" -}}
{{- printf "%s-clickhouse" (include "meshward.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The collector's Service in cluster DNS: the filters' gRPC and block-list cluster names use it. */}}
{{- define "meshward.collector.host" -}}
{{- printf "%s.%s.svc.cluster.local" (include "meshward.collector.name" .) .Release.Namespace }}
{{- end }}

{{/* Selector labels of one component: include "meshward.selectorLabels" (dict "context" . "component" "collector") */}}
{{- define "meshward.selectorLabels" -}}
app.kubernetes.io/name: {{ include "meshward.name" .context }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/* The recommended labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/). */}}
{{- define "meshward.labels" -}}
helm.sh/chart: {{ include "meshward.chart" .context }}
{{ include "meshward.selectorLabels" . }}
app.kubernetes.io/version: {{ .context.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .context.Release.Service }}
app.kubernetes.io/part-of: meshward
{{- end }}

{{/* The collector's ClickHouse URL: the bundled server's Service, or clickhouse.url. */}}
{{- define "meshward.clickhouse.url" -}}
{{- if eq .Values.clickhouse.mode "bundled" }}
{{- printf "http://%s.%s.svc.cluster.local:8123" (include "meshward.clickhouse.name" .) .Release.Namespace }}
{{- else }}
{{- .Values.clickhouse.url }}
{{- end }}
{{- end }}

{{/* The collector's configuration (`meshward config example` documents every key), collector.extraConfig merged over it. */}}
{{- define "meshward.collector.config" -}}
{{- $clickhouse := dict "url" (include "meshward.clickhouse.url" .) "database" .Values.clickhouse.database "user" .Values.clickhouse.user "password" .Values.clickhouse.password "retention_days" .Values.clickhouse.retentionDays "cluster" .Values.clickhouse.cluster }}
{{- $config := dict
  "ingest" (dict "listen" "0.0.0.0:50051" "token" .Values.ingest.token)
  "api" (dict "listen" "0.0.0.0:8080" "read_tokens" .Values.api.readTokens "admin_tokens" .Values.api.adminTokens)
  "spool" (dict "dir" "/var/lib/meshward/spool" "max_bytes" .Values.spool.maxBytes)
  "clickhouse" $clickhouse
  "log" (dict "format" "json" "level" .Values.collector.logLevel)
  "blocklist" (dict "policies" .Values.blocklist.policies) }}
{{- mergeOverwrite $config (deepCopy .Values.collector.extraConfig) | toJson }}
{{- end }}

{{/* The filter's configuration in every sidecar (istio/meshward-filter.json with the secrets from values). */}}
{{- define "meshward.filter.config" -}}
{{- $host := include "meshward.collector.host" . }}
{{- $blocklist := dict "enabled" true "cluster" (printf "outbound|8080||%s" $host) "authority" $host "path" "/api/v1/blocklist" "interval_ms" .Values.wasmPlugin.blocklistIntervalMs "timeout_ms" 1000 }}
{{- dict
  "collector_cluster" (printf "outbound|50051||%s" $host)
  "collector_token" .Values.ingest.token
  "identity_hash_key" .Values.identityHashKey
  "flush_interval_ms" 1000
  "capture_bodies" true
  "max_body_bytes" 65536
  "trusted_proxies" .Values.wasmPlugin.trustedProxies
  "trusted_proxy_cidrs" .Values.wasmPlugin.trustedProxyCidrs
  "trusted_proxy_principals" .Values.wasmPlugin.trustedProxyPrincipals
  "detection" .Values.wasmPlugin.detection
  "inspection" .Values.wasmPlugin.inspection
  "blocklist" $blocklist | toJson }}
{{- end }}
