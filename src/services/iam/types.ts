/** Wire types shared by the IAM domain classes (member names as in the IAM model). */
export interface Tag {
  Key: string;
  Value: string;
}
export interface ListInput {
  Marker?: string;
  MaxItems?: number;
  PathPrefix?: string;
}
