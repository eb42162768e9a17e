{{- define "meshward.collector" -}}
{{- printf "%s-collector" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "meshward.collectorHost" -}}
{{ .Release.Name }}-collector.{{ .Release.Namespace }}.svc.cluster.local
{{- end -}}
