// Original file: maas/v1/registry.proto


export interface ListModelsRequest {
}

export interface ListModelsRequest__Output {
}
