{{/*
The pod of a service: the host image running `todo-host serve --component
<id>` beside its Dapr sidecar. The root filesystem is read-only; compiled
components are cached in an emptyDir at /tmp.
*/}}
{{- define "todo-lib.podTemplate" -}}
{{- $g := .Values.global -}}
metadata:
  labels:
    {{- include "todo-lib.labels" . | nindent 4 }}
  annotations:
    dapr.io/enabled: "true"
    dapr.io/app-id: {{ .Values.component | quote }}
    dapr.io/app-port: {{ .Values.port | quote }}
    dapr.io/app-protocol: "http"
    dapr.io/config: {{ $g.dapr.config | quote }}
    dapr.io/app-token-secret: {{ $g.dapr.appTokenSecret | quote }}
    dapr.io/api-token-secret: {{ $g.dapr.apiTokenSecret | quote }}
    dapr.io/log-level: {{ $g.dapr.logLevel | quote }}
    dapr.io/log-as-json: "true"
    dapr.io/enable-metrics: "true"
    dapr.io/metrics-port: {{ $g.dapr.metricsPort | quote }}
    dapr.io/sidecar-cpu-request: {{ $g.dapr.sidecar.cpuRequest | quote }}
    dapr.io/sidecar-memory-request: {{ $g.dapr.sidecar.memoryRequest | quote }}
    dapr.io/sidecar-memory-limit: {{ $g.dapr.sidecar.memoryLimit | quote }}
    {{- if and $g.metrics.enabled $g.metrics.podAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ $g.metrics.port | quote }}
    prometheus.io/path: "/metrics"
    {{- end }}
spec:
  # The sidecar reads this service's Secrets through the Kubernetes API
  # with the pod's token (templates/secrets-rbac.yaml grants which).
  serviceAccountName: {{ include "todo-lib.fullname" . }}
  enableServiceLinks: false
  {{- with $g.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    fsGroup: 65532
    seccompProfile:
      type: RuntimeDefault
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  containers:
    - name: host
      image: {{ include "todo-lib.image" . | quote }}
      imagePullPolicy: {{ $g.image.pullPolicy }}
      args: ["serve", "--component", {{ .Values.component | quote }}, "--no-hot-swap"]
      env:
        - name: TODO_LISTEN
          value: {{ printf "0.0.0.0:%v" .Values.port | quote }}
        {{- if $g.metrics.enabled }}
        # /metrics on a port of its own, bound to the pod's address only
        # (never on the app port, which the ingress reaches).
        - name: POD_IP
          valueFrom:
            fieldRef:
              fieldPath: status.podIP
        - name: TODO_METRICS_LISTEN
          value: {{ printf "$(POD_IP):%v" $g.metrics.port | quote }}
        {{- end }}
        - name: TODO_CACHE_DIR
          value: /tmp/compiled
        - name: TODO_LOG_FORMAT
          value: json
        - name: RUST_LOG
          value: {{ $g.logLevel | quote }}
        # The outbox lane is the pod's own (a restarted pod recovers it).
        - name: TODO_OUTBOX_LANE
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        {{- if include "todo-lib.durable" . }}
        - name: TODO_DAPR_STATESTORE
          value: statestore-durable
        {{- end }}
        {{- if and .Values.conversation $g.dapr.conversation.enabled }}
        - name: TODO_DAPR_CONVERSATION
          value: {{ $g.dapr.conversation.name | quote }}
        {{- end }}
        - name: APP_API_TOKEN
          valueFrom:
            secretKeyRef:
              name: {{ $g.dapr.appTokenSecret | quote }}
              key: token
        - name: DAPR_API_TOKEN
          valueFrom:
            secretKeyRef:
              name: {{ $g.dapr.apiTokenSecret | quote }}
              key: token
      ports:
        - name: http
          containerPort: {{ .Values.port }}
          protocol: TCP
        {{- if $g.metrics.enabled }}
        - name: metrics
          containerPort: {{ $g.metrics.port }}
          protocol: TCP
        {{- end }}
      startupProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 2
        failureThreshold: 60
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 10
        timeoutSeconds: 2
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        periodSeconds: 5
        timeoutSeconds: 2
        failureThreshold: 2
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ .Values.tmpSize }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "todo-lib.selectorLabels" . | nindent 10 }}
{{- end -}}
